"""A strict reader of IEEE 1364 VCD files, for the tests: it rejects what a
lenient viewer would let pass (unbalanced scopes, a value change to an
undeclared identifier or wider than its variable, time going backwards)."""


class VcdError(Exception):
    pass


class Vcd:
    def __init__(self):
        self.timescale = None
        self.scopes = set()  # dotted paths, e.g. "platform.controller"
        self.vars = {}       # dotted name -> (identifier, width)
        self.widths = {}     # identifier -> width
        self.times = []      # every "#t", in file order
        self.changes = {}    # identifier -> [(time, value string)]
        self.dumpvars_time = None
        self.dumped = set()  # identifiers given a value inside $dumpvars

    def values(self, name):
        """[(time, int or None for x/z)] of a variable given by its dotted name."""
        ident, _ = self.vars[name]
        out = []
        for t, v in self.changes.get(ident, []):
            out.append((t, int(v, 2) if set(v) <= {"0", "1"} else None))
        return out

    def rises(self, name):
        """Times at which a 1-bit variable goes from something else to 1."""
        last, out = None, []
        for t, v in self.values(name):
            if v == 1 and last != 1:
                out.append(t)
            last = v
        return out

    def falls(self, name):
        last, out = None, []
        for t, v in self.values(name):
            if v == 0 and last == 1:
                out.append(t)
            last = v
        return out


def parse(path):
    with open(path) as f:
        tokens = f.read().split()
    vcd = Vcd()
    i, n = 0, len(tokens)
    stack = []

    def until_end(start):
        j = start
        while j < n and tokens[j] != "$end":
            j += 1
        if j == n:
            raise VcdError(f"{path}: '{tokens[start - 1]}' without $end")
        return tokens[start:j], j + 1

    # Header.
    while True:
        if i == n:
            raise VcdError(f"{path}: no $enddefinitions")
        tok = tokens[i]
        if tok in ("$date", "$version", "$comment"):
            _, i = until_end(i + 1)
        elif tok == "$timescale":
            body, i = until_end(i + 1)
            ts = "".join(body)
            num = ts.rstrip("afmnpsu")
            if num not in ("1", "10", "100") or ts[len(num):] not in ("s", "ms", "us", "ns", "ps", "fs"):
                raise VcdError(f"{path}: bad $timescale '{ts}'")
            vcd.timescale = ts
        elif tok == "$scope":
            body, i = until_end(i + 1)
            if len(body) != 2 or body[0] not in ("module", "task", "function", "begin", "fork"):
                raise VcdError(f"{path}: bad $scope {body}")
            stack.append(body[1])
            vcd.scopes.add(".".join(stack))
        elif tok == "$upscope":
            body, i = until_end(i + 1)
            if body or not stack:
                raise VcdError(f"{path}: unbalanced $upscope")
            stack.pop()
        elif tok == "$var":
            body, i = until_end(i + 1)
            if len(body) not in (4, 5) or not body[1].isdigit() or int(body[1]) < 1:
                raise VcdError(f"{path}: bad $var {body}")
            if not stack:
                raise VcdError(f"{path}: $var outside a scope: {body}")
            width, ident, ref = int(body[1]), body[2], body[3]
            if any(c < "!" or c > "~" for c in ident):
                raise VcdError(f"{path}: bad identifier {ident!r}")
            if len(body) == 5 and body[4] != f"[{width - 1}:0]":
                raise VcdError(f"{path}: range {body[4]} does not match width {width}")
            name = ".".join(stack + [ref])
            if name in vcd.vars:
                raise VcdError(f"{path}: {name} declared twice")
            if ident in vcd.widths and vcd.widths[ident] != width:
                raise VcdError(f"{path}: identifier {ident} reused with another width")
            vcd.vars[name] = (ident, width)
            vcd.widths[ident] = width
        elif tok == "$enddefinitions":
            body, i = until_end(i + 1)
            if body:
                raise VcdError(f"{path}: $enddefinitions takes no arguments")
            break
        else:
            raise VcdError(f"{path}: unexpected '{tok}' in the header")
    if stack:
        raise VcdError(f"{path}: scope {'.'.join(stack)} not closed")
    if vcd.timescale is None:
        raise VcdError(f"{path}: no $timescale")
    if not vcd.vars:
        raise VcdError(f"{path}: no variables")

    # Value changes.
    now = None
    in_dump = None
    while i < n:
        tok = tokens[i]
        i += 1
        if tok.startswith("#"):
            if not tok[1:].isdigit():
                raise VcdError(f"{path}: bad time '{tok}'")
            t = int(tok[1:])
            if now is not None and t <= now:
                raise VcdError(f"{path}: time {t} after {now}: not increasing")
            now = t
            vcd.times.append(t)
        elif tok in ("$dumpvars", "$dumpall", "$dumpon", "$dumpoff"):
            if in_dump or now is None:
                raise VcdError(f"{path}: {tok} nested or before the first time")
            in_dump = tok
            if tok == "$dumpvars":
                vcd.dumpvars_time = now
        elif tok == "$end":
            if not in_dump:
                raise VcdError(f"{path}: stray $end")
            in_dump = None
        elif tok == "$comment":
            _, i = until_end(i)
        elif tok[0] in "01xXzZ":
            ident = tok[1:]
            if ident not in vcd.widths:
                raise VcdError(f"{path}: change of undeclared identifier {ident!r}")
            if vcd.widths[ident] != 1:
                raise VcdError(f"{path}: scalar change of the {vcd.widths[ident]}-bit variable {ident!r}")
            if now is None:
                raise VcdError(f"{path}: value change before the first time")
            vcd.changes.setdefault(ident, []).append((now, tok[0].lower()))
            if in_dump == "$dumpvars":
                vcd.dumped.add(ident)
        elif tok[0] in "bB":
            if i == n:
                raise VcdError(f"{path}: vector change without identifier")
            bits, ident = tok[1:].lower(), tokens[i]
            i += 1
            if not bits or set(bits) - set("01xz"):
                raise VcdError(f"{path}: bad vector value '{tok}'")
            if ident not in vcd.widths:
                raise VcdError(f"{path}: change of undeclared identifier {ident!r}")
            if len(bits) > vcd.widths[ident]:
                raise VcdError(f"{path}: {len(bits)} bits for the {vcd.widths[ident]}-bit variable {ident!r}")
            if now is None:
                raise VcdError(f"{path}: value change before the first time")
            vcd.changes.setdefault(ident, []).append((now, bits))
            if in_dump == "$dumpvars":
                vcd.dumped.add(ident)
        else:
            raise VcdError(f"{path}: unexpected '{tok}' among the value changes")
    if in_dump:
        raise VcdError(f"{path}: {in_dump} without $end")
    return vcd
