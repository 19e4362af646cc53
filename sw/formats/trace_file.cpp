#include "sw/formats/trace_file.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "sw/contract/numerics.h"
#include "sw/formats/digest.h"
#include "sw/formats/input_file.h"

namespace cimvp {

namespace {

constexpr int kMaxChannels = 1 << 16;
constexpr int kMaxSize = 1 << 16;  // height, width
constexpr int kMaxKernel = 1 << 12;
constexpr int kMaxBits = 8;
constexpr int kWeightMax = 127;
// Draw tags: which quantity a counter-based draw belongs to.
constexpr std::uint64_t kWeightTag = 0x77656967;  // "weig"
constexpr std::uint64_t kActTag = 0x61637469;     // "acti"

const char* const kLayerKeys[] = {"name",   "type",   "in",     "out",    "kernel", "stride", "padding",
                                  "groups", "w_bits", "a_bits", "scheme", "map",    "op"};
const char* const kNetworkKeys[] = {"name", "input", "dataset", "classes"};
const char* const kDataKeys[] = {"seed", "act", "weights"};

template <std::size_t N>
std::string join(const char* const (&keys)[N]) {
    std::string s;
    for (std::size_t i = 0; i < N; ++i) s += (i ? ", " : "") + std::string(keys[i]);
    return s;
}

template <std::size_t N>
bool contains(const char* const (&keys)[N], const std::string& k) {
    return std::any_of(std::begin(keys), std::end(keys), [&](const char* x) { return k == x; });
}

std::string quoted(const std::string& s) { return "'" + s + "'"; }

// "a conv layer", "an add layer".
std::string a_layer(const std::string& type) {
    return (type.empty() || std::string("aeiou").find(type[0]) == std::string::npos ? "a " : "an ") + type + " layer";
}

std::string format_double(double v) {
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, r.ptr);
}

// One record: its kind and key=value fields, in order.
struct Record {
    int line = 0;
    std::string kind;
    std::map<std::string, std::string> fields;
};

class Parser {
public:
    Parser(const std::string& source) : source_(source) {}

    [[noreturn]] void fail(int line, const std::string& field, const std::string& expected, const std::string& got) const {
        throw TraceError(source_ + ":" + std::to_string(line) + ": " + field + ": expected " + expected + ", got " + got);
    }

    NetworkTrace parse(const std::string& text) {
        NetworkTrace t;
        t.source = source_;
        std::istringstream in(text);
        std::string raw;
        int line = 0;
        bool have_network = false, have_data = false;
        std::map<std::string, int> names;
        while (std::getline(in, raw)) {
            ++line;
            if (!raw.empty() && raw.back() == '\r') raw.pop_back();
            if (line == 1) {
                header(raw);
                continue;
            }
            const std::string body = raw.substr(0, raw.find('#'));
            std::istringstream ls(body);
            std::vector<std::string> tokens;
            for (std::string tok; ls >> tok;) tokens.push_back(tok);
            if (tokens.empty()) continue;
            Record r;
            r.line = line;
            r.kind = tokens[0];
            for (std::size_t i = 1; i < tokens.size(); ++i) {
                const std::string& tok = tokens[i];
                const auto eq = tok.find('=');
                if (eq == std::string::npos || eq == 0)
                    fail(line, "field " + std::to_string(i), "key=value", quoted(tok));
                const std::string key = tok.substr(0, eq);
                if (r.fields.count(key)) fail(line, key, "one value", "a second " + quoted(tok));
                r.fields[key] = tok.substr(eq + 1);
            }
            if (r.kind == "network") {
                if (have_network) fail(line, "network", "one network record", "a second one");
                if (!t.layers.empty()) fail(line, "network", "the network record before the layers", "it after them");
                t.network = network(r);
                have_network = true;
            } else if (r.kind == "data") {
                if (have_data) fail(line, "data", "one data record", "a second one");
                if (!t.layers.empty()) fail(line, "data", "the data record before the layers", "it after them");
                t.data = data(r);
                have_data = true;
            } else if (r.kind == "layer") {
                if (!have_network) fail(line, "network", "a network record before the first layer", "none");
                if (!have_data) fail(line, "data", "a data record before the first layer", "none");
                TraceLayer L = layer(r);
                const auto it = names.find(L.name);
                if (it != names.end())
                    fail(line, "name", "a name not used before (line " + std::to_string(it->second) + ")", quoted(L.name));
                names[L.name] = line;
                if (t.layers.empty() &&
                    (L.in_c != t.network.in_c || L.in_h != t.network.in_h || L.in_w != t.network.in_w))
                    fail(line, "in", "the network input " + shape(t.network.in_c, t.network.in_h, t.network.in_w) +
                                         " on the first layer",
                         quoted(shape(L.in_c, L.in_h, L.in_w)));
                t.layers.push_back(L);
            } else {
                fail(line, "record", "one of network, data, layer", quoted(r.kind));
            }
        }
        if (line == 0) fail(1, "header", "'cimvp-trace 1'", "an empty file");
        if (t.layers.empty()) fail(line, "layer", "at least one layer record", "none");
        if (t.network.classes > 0) {
            const auto last = std::find_if(t.layers.rbegin(), t.layers.rend(), [](const TraceLayer& L) { return L.has_weights(); });
            if (last != t.layers.rend() && last->out_c != t.network.classes)
                fail(last->line, "out", "the network's " + std::to_string(t.network.classes) +
                                            " classes on the last layer with weights",
                     std::to_string(last->out_c));
        }
        return t;
    }

private:
    static std::string shape(int c, int h, int w) {
        return std::to_string(c) + "," + std::to_string(h) + "," + std::to_string(w);
    }

    void header(const std::string& raw) {
        std::istringstream ls(raw);
        std::string magic, version, extra;
        ls >> magic >> version >> extra;
        if (magic != kTraceMagic || version.empty() || !extra.empty())
            fail(1, "header", "'cimvp-trace 1' on the first line", quoted(raw));
        if (version != std::to_string(kTraceVersion))
            fail(1, "version", std::to_string(kTraceVersion) + " (this reader's version)", quoted(version));
    }

    template <std::size_t N>
    void check_keys(const Record& r, const char* const (&keys)[N]) const {
        for (const auto& [k, v] : r.fields)
            if (!contains(keys, k)) fail(r.line, "key", "one of " + join(keys) + " on a " + r.kind + " record", quoted(k));
    }

    const std::string* find(const Record& r, const std::string& key) const {
        const auto it = r.fields.find(key);
        return it == r.fields.end() ? nullptr : &it->second;
    }

    const std::string& require(const Record& r, const std::string& key, const std::string& why) const {
        const std::string* v = find(r, key);
        if (!v) fail(r.line, key, "a value (" + why + ")", "nothing");
        return *v;
    }

    long long integer(const Record& r, const std::string& key, const std::string& v, long long lo, long long hi) const {
        long long x = 0;
        const auto res = std::from_chars(v.data(), v.data() + v.size(), x);
        if (v.empty() || res.ec != std::errc() || res.ptr != v.data() + v.size() || x < lo || x > hi)
            fail(r.line, key, "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]", quoted(v));
        return x;
    }

    int int_field(const Record& r, const std::string& key, long long lo, long long hi, const std::string& why) const {
        return static_cast<int>(integer(r, key, require(r, key, why), lo, hi));
    }

    std::string ident(const Record& r, const std::string& key, const std::string& v) const {
        const bool ok = !v.empty() && std::all_of(v.begin(), v.end(), [](unsigned char c) {
            return std::isalnum(c) || c == '_' || c == '.' || c == '-';
        });
        if (!ok) fail(r.line, key, "a name of letters, digits, '_', '.' and '-'", quoted(v));
        return v;
    }

    void triple(const Record& r, const std::string& key, const std::string& v, int& c, int& h, int& w) const {
        std::vector<std::string> parts;
        std::stringstream ss(v);
        for (std::string p; std::getline(ss, p, ',');) parts.push_back(p);
        if (parts.size() != 3 || v.back() == ',') fail(r.line, key, "C,H,W (three positive integers)", quoted(v));
        for (const auto& p : parts) {
            long long x = 0;
            const auto res = std::from_chars(p.data(), p.data() + p.size(), x);
            if (p.empty() || res.ec != std::errc() || res.ptr != p.data() + p.size() || x < 1)
                fail(r.line, key, "C,H,W (three positive integers)", quoted(v));
        }
        c = static_cast<int>(integer(r, key + " C", parts[0], 1, kMaxChannels));
        h = static_cast<int>(integer(r, key + " H", parts[1], 1, kMaxSize));
        w = static_cast<int>(integer(r, key + " W", parts[2], 1, kMaxSize));
    }

    template <typename E, std::size_t N>
    E choice(const Record& r, const std::string& key, const std::string& v, const char* const (&names)[N],
             const E (&values)[N]) const {
        for (std::size_t i = 0; i < N; ++i)
            if (v == names[i]) return values[i];
        fail(r.line, key, "one of " + join(names), quoted(v));
    }

    TraceDistribution distribution(const Record& r, const std::string& key, const std::string& v) const {
        TraceDistribution d;
        const auto colon = v.find(':');
        d.family = v.substr(0, colon);
        if (colon != std::string::npos) {
            const std::string p = v.substr(colon + 1);
            double x = 0;
            const auto res = std::from_chars(p.data(), p.data() + p.size(), x);
            if (p.empty() || res.ec != std::errc() || res.ptr != p.data() + p.size() || !std::isfinite(x))
                fail(r.line, key, "family:number", quoted(v));
            d.param = x;
            d.has_param = true;
        }
        if (key == "weights") {
            if (d.family != "normal" && d.family != "laplace" && d.family != "uniform")
                fail(r.line, key, "normal:S, laplace:B or uniform:A", quoted(v));
            if (!d.has_param || !(d.param > 0 && d.param <= 1))
                fail(r.line, key, d.family + ":X with X in (0, 1] (a fraction of the int8 full scale 127)", quoted(v));
        } else {
            if (d.family == "uniform") {
                if (d.has_param) fail(r.line, key, "uniform (no parameter)", quoted(v));
            } else if (d.family == "relu-uniform") {
                if (!d.has_param || !(d.param >= 0 && d.param < 1))
                    fail(r.line, key, "relu-uniform:P with P in [0, 1) (the fraction of zeros)", quoted(v));
            } else {
                fail(r.line, key, "uniform or relu-uniform:P", quoted(v));
            }
        }
        return d;
    }

    TraceNetwork network(const Record& r) const {
        check_keys(r, kNetworkKeys);
        TraceNetwork n;
        n.name = ident(r, "name", require(r, "name", "required on the network record"));
        triple(r, "input", require(r, "input", "required on the network record"), n.in_c, n.in_h, n.in_w);
        if (const std::string* v = find(r, "dataset")) n.dataset = ident(r, "dataset", *v);
        if (const std::string* v = find(r, "classes")) n.classes = static_cast<int>(integer(r, "classes", *v, 1, kMaxChannels));
        return n;
    }

    TraceData data(const Record& r) const {
        check_keys(r, kDataKeys);
        TraceData d;
        const std::string& seed = require(r, "seed", "required on the data record");
        std::uint64_t s = 0;
        const auto res = std::from_chars(seed.data(), seed.data() + seed.size(), s);
        if (seed.empty() || res.ec != std::errc() || res.ptr != seed.data() + seed.size())
            fail(r.line, "seed", "an unsigned 64-bit integer", quoted(seed));
        d.seed = s;
        d.act = distribution(r, "act", require(r, "act", "required on the data record"));
        d.weights = distribution(r, "weights", require(r, "weights", "required on the data record"));
        return d;
    }

    TraceLayer layer(const Record& r) const {
        check_keys(r, kLayerKeys);
        TraceLayer L;
        L.line = r.line;
        L.name = ident(r, "name", require(r, "name", "required on every layer"));
        static const char* const kTypes[] = {"conv", "dwconv", "fc", "pool", "add"};
        static const TraceLayerType kTypeValues[] = {TraceLayerType::kConv, TraceLayerType::kDwConv,
                                                     TraceLayerType::kFc, TraceLayerType::kPool, TraceLayerType::kAdd};
        L.type = choice(r, "type", require(r, "type", "required on every layer"), kTypes, kTypeValues);
        const std::string tname = trace_name(L.type);
        triple(r, "in", require(r, "in", "required on every layer"), L.in_c, L.in_h, L.in_w);
        L.out_c = int_field(r, "out", 1, kMaxChannels, "required on every layer");

        const bool weights = L.has_weights();
        const bool window = L.type == TraceLayerType::kConv || L.type == TraceLayerType::kDwConv ||
                            L.type == TraceLayerType::kPool;
        auto absent = [&](const char* key, const std::string& why) {
            if (const std::string* v = find(r, key))
                fail(r.line, key, std::string("no ") + key + " on " + a_layer(tname) + " (" + why + ")", quoted(*v));
        };
        if (window) {
            const std::string why = "required on " + tname + " layers";
            L.kernel = int_field(r, "kernel", 1, kMaxKernel, why);
            L.stride = int_field(r, "stride", 1, kMaxKernel, why);
            L.padding = int_field(r, "padding", 0, L.kernel - 1, why);
            if (L.in_h + 2 * L.padding < L.kernel || L.in_w + 2 * L.padding < L.kernel)
                fail(r.line, "kernel",
                     "at most the padded input, " + std::to_string(std::min(L.in_h, L.in_w) + 2 * L.padding),
                     std::to_string(L.kernel));
        } else if (L.type == TraceLayerType::kFc) {
            // Accepted for uniformity with the model file (fc: 1, 1, 0), nothing else.
            if (const std::string* v = find(r, "kernel")) integer(r, "kernel", *v, 1, 1);
            if (const std::string* v = find(r, "stride")) integer(r, "stride", *v, 1, 1);
            if (const std::string* v = find(r, "padding")) integer(r, "padding", *v, 0, 0);
        } else {
            for (const char* k : {"kernel", "stride", "padding"}) absent(k, "it has no window");
        }
        if (L.type == TraceLayerType::kConv) {
            // Grouped convolutions other than depthwise are not in version 1.
            L.groups = int_field(r, "groups", 1, 1, "required on conv layers; dwconv is the depthwise form");
        } else if (L.type == TraceLayerType::kDwConv) {
            L.groups = int_field(r, "groups", L.in_c, L.in_c, "required on dwconv layers: the input channels");
            if (L.out_c != L.in_c) fail(r.line, "out", "the input channels " + std::to_string(L.in_c) + " (depthwise)", std::to_string(L.out_c));
        } else if (L.type == TraceLayerType::kFc) {
            if (const std::string* v = find(r, "groups")) integer(r, "groups", *v, 1, 1);
        } else {
            absent("groups", "it has no weights");
            if (L.out_c != L.in_c)
                fail(r.line, "out", "the input channels " + std::to_string(L.in_c) + " (" + a_layer(tname) + " keeps them)",
                     std::to_string(L.out_c));
        }
        if (weights) {
            const std::string why = "required on " + tname + " layers";
            L.w_bits = int_field(r, "w_bits", 1, kMaxBits, why);
            L.a_bits = int_field(r, "a_bits", 1, kMaxBits, why);
            static const char* const kSchemes[] = {"int8", "bwma", "columnwise", "swis"};
            static const TraceScheme kSchemeValues[] = {TraceScheme::kInt8, TraceScheme::kBwma, TraceScheme::kColumnwise,
                                                        TraceScheme::kSwis};
            L.scheme = choice(r, "scheme", require(r, "scheme", why), kSchemes, kSchemeValues);
            static const char* const kMaps[] = {"crossbar", "pe"};
            static const TraceMap kMapValues[] = {TraceMap::kCrossbar, TraceMap::kPe};
            L.map = choice(r, "map", require(r, "map", why), kMaps, kMapValues);
            if ((L.scheme == TraceScheme::kBwma) != (L.w_bits == 1))
                fail(r.line, "w_bits", "1 exactly with scheme=bwma", std::to_string(L.w_bits) + " with scheme=" + trace_name(L.scheme));
            if (L.scheme == TraceScheme::kSwis && L.w_bits != 8)
                fail(r.line, "w_bits", "8 with scheme=swis (decomposed int8 weights)", std::to_string(L.w_bits));
            if (L.scheme == TraceScheme::kSwis && L.map != TraceMap::kPe)
                fail(r.line, "map", "pe with scheme=swis", trace_name(L.map));
            if ((L.scheme == TraceScheme::kBwma || L.scheme == TraceScheme::kColumnwise) && L.map != TraceMap::kCrossbar)
                fail(r.line, "map", std::string("crossbar with scheme=") + trace_name(L.scheme), trace_name(L.map));
            absent("op", "only pool layers have one");
        } else {
            for (const char* k : {"w_bits", "a_bits", "scheme", "map"}) absent(k, "only conv, dwconv and fc have weights");
            if (L.type == TraceLayerType::kPool) {
                static const char* const kOps[] = {"max", "avg"};
                static const TracePool kOpValues[] = {TracePool::kMax, TracePool::kAvg};
                L.pool = choice(r, "op", require(r, "op", "required on pool layers"), kOps, kOpValues);
            } else {
                absent("op", "only pool layers have one");
            }
        }
        bound_work(r.line, L);
        return L;
    }

    // The work and memory of one layer, in 64 bits, against the documented limits (docs/trace-format.md),
    // before anything is allocated for it: a shape of in-range values can still ask for terabytes.
    void bound_work(int line, const TraceLayer& L) const {
        const std::int64_t in_bytes = static_cast<std::int64_t>(L.in_c) * L.in_h * L.in_w;
        if (in_bytes > kMaxTraceTensorBytes)
            fail(line, "in", "a tensor of at most " + std::to_string(kMaxTraceTensorBytes) + " values (C*H*W)",
                 std::to_string(in_bytes));
        if (L.spatial() && (L.out_h() < 1 || L.out_w() < 1)) return;  // checked with the window below
        const std::int64_t out_bytes = static_cast<std::int64_t>(L.out_c) * L.out_h() * L.out_w();
        if (out_bytes > kMaxTraceTensorBytes)
            fail(line, "out", "an output of at most " + std::to_string(kMaxTraceTensorBytes) + " values (C*OH*OW)",
                 std::to_string(out_bytes));
        if (L.K() > kMaxTraceK)
            fail(line, "in", "at most " + std::to_string(kMaxTraceK) + " inputs per filter (K)", std::to_string(L.K()));
        if (L.weight_count() > kMaxTraceWeights)
            fail(line, "out", "at most " + std::to_string(kMaxTraceWeights) + " weights in a layer (out*K)",
                 std::to_string(L.weight_count()));
        if (L.macs() > kMaxTraceMacs)
            fail(line, "out", "at most " + std::to_string(kMaxTraceMacs) + " MACs per image in a layer",
                 std::to_string(L.macs()));
    }

    std::string source_;
};

}  // namespace

const char* trace_name(TraceLayerType t) {
    switch (t) {
        case TraceLayerType::kConv: return "conv";
        case TraceLayerType::kDwConv: return "dwconv";
        case TraceLayerType::kFc: return "fc";
        case TraceLayerType::kPool: return "pool";
        case TraceLayerType::kAdd: return "add";
    }
    return "?";
}

const char* trace_name(TraceScheme s) {
    switch (s) {
        case TraceScheme::kInt8: return "int8";
        case TraceScheme::kBwma: return "bwma";
        case TraceScheme::kColumnwise: return "columnwise";
        case TraceScheme::kSwis: return "swis";
    }
    return "?";
}

const char* trace_name(TraceMap m) { return m == TraceMap::kCrossbar ? "crossbar" : "pe"; }
const char* trace_name(TracePool p) { return p == TracePool::kMax ? "max" : "avg"; }

std::string TraceDistribution::text() const { return has_param ? family + ":" + format_double(param) : family; }

std::int64_t TraceLayer::K() const {
    const std::int64_t k2 = static_cast<std::int64_t>(kernel) * kernel;
    switch (type) {
        case TraceLayerType::kConv: return in_c / groups * k2;
        case TraceLayerType::kDwConv: return k2;
        case TraceLayerType::kFc: return static_cast<std::int64_t>(in_c) * in_h * in_w;
        default: return 0;
    }
}

std::int64_t NetworkTrace::macs() const {
    std::int64_t m = 0;
    for (const auto& L : layers) m += L.macs();
    return m;
}

NetworkTrace parse_trace(const std::string& text, const std::string& source) { return Parser(source).parse(text); }

NetworkTrace load_trace(const std::string& path) {
    const auto bytes = read_input_file_or_throw<TraceError>(path, "trace file", kMaxTraceFileBytes);
    return parse_trace(std::string(bytes.begin(), bytes.end()), path);
}

std::string format_trace(const NetworkTrace& t) {
    std::ostringstream os;
    os << kTraceMagic << ' ' << t.version << '\n';
    const TraceNetwork& n = t.network;
    os << "network name=" << n.name << " input=" << n.in_c << ',' << n.in_h << ',' << n.in_w;
    if (!n.dataset.empty()) os << " dataset=" << n.dataset;
    if (n.classes > 0) os << " classes=" << n.classes;
    os << '\n';
    os << "data seed=" << t.data.seed << " act=" << t.data.act.text() << " weights=" << t.data.weights.text() << '\n';
    for (const TraceLayer& L : t.layers) {
        os << "layer name=" << L.name << " type=" << trace_name(L.type) << " in=" << L.in_c << ',' << L.in_h << ','
           << L.in_w << " out=" << L.out_c;
        if (L.type == TraceLayerType::kConv || L.type == TraceLayerType::kDwConv || L.type == TraceLayerType::kPool)
            os << " kernel=" << L.kernel << " stride=" << L.stride << " padding=" << L.padding;
        if (L.type == TraceLayerType::kConv || L.type == TraceLayerType::kDwConv) os << " groups=" << L.groups;
        if (L.has_weights())
            os << " w_bits=" << L.w_bits << " a_bits=" << L.a_bits << " scheme=" << trace_name(L.scheme)
               << " map=" << trace_name(L.map);
        if (L.type == TraceLayerType::kPool) os << " op=" << trace_name(L.pool);
        os << '\n';
    }
    return os.str();
}

std::vector<std::int8_t> trace_layer_weights(const NetworkTrace& t, std::size_t index) {
    if (index >= t.layers.size() || !t.layers[index].has_weights())
        throw TraceError(t.source + ": layer " + std::to_string(index) + ": expected a layer with weights");
    return trace_layer_weights(t, index, 0, t.layers[index].out_c);
}

std::vector<std::int8_t> trace_layer_weights(const NetworkTrace& t, std::size_t index, int first_filter, int filters) {
    if (index >= t.layers.size() || !t.layers[index].has_weights())
        throw TraceError(t.source + ": layer " + std::to_string(index) + ": expected a layer with weights");
    const TraceLayer& L = t.layers[index];
    if (first_filter < 0 || filters < 0 || first_filter + filters > L.out_c)
        throw TraceError(t.source + ": layer " + std::to_string(index) + ": filters " + std::to_string(first_filter) +
                         ".." + std::to_string(first_filter + filters - 1) + ": expected a range of its " +
                         std::to_string(L.out_c));
    const TraceDistribution& d = t.data.weights;
    const std::uint64_t name = fnv1a64(L.name);
    const int K = L.K();
    const double scale = d.param * kWeightMax;
    std::vector<std::int8_t> w(static_cast<std::size_t>(filters) * K);
    const bool normal = d.family == "normal", laplace = d.family == "laplace";  // compared once, not per weight
    for (int f = first_filter; f < first_filter + filters; ++f)
        for (int k = 0; k < K; ++k) {
            const std::uint64_t key = numerics::hash_key(t.data.seed, kWeightTag, name, static_cast<std::uint64_t>(f),
                                                         static_cast<std::uint64_t>(k));
            double x = 0;
            if (normal) {
                x = numerics::standard_normal(key) * scale;
            } else if (laplace) {
                const double u = numerics::uniform01(key) - 0.5;
                x = -scale * (u < 0 ? -1.0 : 1.0) * std::log(1.0 - 2.0 * std::fabs(u));
            } else {
                x = (2.0 * numerics::uniform01(key) - 1.0) * scale;
            }
            const double q = std::clamp(std::round(x), -static_cast<double>(kWeightMax), static_cast<double>(kWeightMax));
            w[static_cast<std::size_t>(f - first_filter) * K + k] = static_cast<std::int8_t>(q);
        }
    return w;
}

std::vector<std::uint8_t> trace_layer_activations(const NetworkTrace& t, std::size_t index, std::size_t count,
                                                  std::uint64_t first) {
    if (index >= t.layers.size()) throw TraceError(t.source + ": layer " + std::to_string(index) + ": no such layer");
    const TraceLayer& L = t.layers[index];
    const int bits = L.has_weights() ? L.a_bits : kMaxBits;
    const double levels = static_cast<double>((1 << bits) - 1);
    const TraceDistribution& d = t.data.act;
    const std::uint64_t name = fnv1a64(L.name);
    std::vector<std::uint8_t> a(count);
    const bool uniform = d.family == "uniform";  // compared once, not per activation
    for (std::size_t i = 0; i < count; ++i) {
        const double u = numerics::uniform01(numerics::hash_key(t.data.seed, kActTag, name, 0, first + i));
        double v = 0;
        if (uniform) {
            v = std::floor(u * (levels + 1));
        } else if (u >= d.param) {
            v = 1 + std::floor((u - d.param) / (1 - d.param) * levels);
        }
        a[i] = static_cast<std::uint8_t>(std::min(v, levels));
    }
    return a;
}

}  // namespace cimvp
