#include "sw/formats/input_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace cimvp {

namespace {

std::string mib(std::uint64_t bytes) {
    return bytes % (1024 * 1024) == 0 ? std::to_string(bytes / (1024 * 1024)) + " MiB" : std::to_string(bytes) + " bytes";
}

class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

}  // namespace

bool read_input_file(const std::string& path, const std::string& what, std::uint64_t max_bytes,
                     std::vector<std::uint8_t>& out, std::string& error) {
    out.clear();
    const std::string prefix = path + ": cannot read the " + what + ": ";
    // O_NONBLOCK: opening a FIFO that has no writer returns at once (and then reads as empty)
    // instead of waiting for one forever.
    const Fd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (fd.get() < 0) {
        error = prefix + std::strerror(errno);
        return false;
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        error = prefix + std::strerror(errno);
        return false;
    }
    if (S_ISDIR(st.st_mode)) {
        error = prefix + "it is a directory";
        return false;
    }
    if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode)) {
        error = prefix + "not a regular file or a pipe";
        return false;
    }
    if (S_ISREG(st.st_mode) && static_cast<std::uint64_t>(st.st_size) > max_bytes) {
        error = prefix + std::to_string(st.st_size) + " bytes, more than the " + mib(max_bytes) + " a " + what +
                " may have";
        return false;
    }
    // Blocking reads from here on: a pipe with a writer (`--config <(...)`) delivers all it writes.
    const int flags = ::fcntl(fd.get(), F_GETFL);
    if (flags >= 0) ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK);
    if (S_ISREG(st.st_mode)) out.reserve(static_cast<std::size_t>(st.st_size));
    std::uint8_t buf[1 << 16];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            error = prefix + std::strerror(errno);
            out.clear();
            return false;
        }
        if (n == 0) break;
        if (out.size() + static_cast<std::uint64_t>(n) > max_bytes) {
            error = prefix + "more than the " + mib(max_bytes) + " a " + what + " may have";
            out.clear();
            return false;
        }
        out.insert(out.end(), buf, buf + n);
    }
    return true;
}

}  // namespace cimvp
