// kata/io/file.hpp
//
// Purpose: the two file operations behind every kata parameter/array file: reading a whole file
// (`read_file_bytes`) and replacing one atomically (`atomic_write_file`). Both throw kata::io_error
// naming the file.
//
// Reading (untrusted paths as well as untrusted bytes):
//   * only regular files are read. A FIFO, directory, socket or device is refused at once, before
//     any read: opening is non-blocking and the type is checked on the open descriptor, so a FIFO
//     with no writer can never block the caller (std::ifstream would wait forever in open()).
//   * the size comes from the open descriptor; a file that shrinks while it is read is an error.
//
// Writing (same semantics as numpy.save/savez on the path, plus atomicity):
//   * the bytes go to "<target>.tmp.<pid>.<n>" in the target's directory, are flushed and fsynced,
//     then renamed over the target, and the directory is fsynced (best effort). On any failure the
//     temporary is removed and the previous target file is left untouched.
//   * a symbolic link is followed (any chain, relative or absolute, also a dangling one): the
//     temporary is made in the directory of the FINAL target and renamed onto it, so the link stays
//     a link and its target gets the new bytes, as with numpy (which opens the path for writing).
//   * an existing target keeps its permission bits (mode & 0777) and, where the caller may set it,
//     its owner and group. A new file gets 0666 minus the umask, like Python's open().
//   * a read-only target is refused with an io_error and left as it is. numpy.savez over a file
//     the caller may not write fails with PermissionError; kata matches that, and also refuses a
//     file without any write permission bit when the caller is root (root's open() would succeed,
//     but a file marked read-only is a statement that it must not change, and the rename used for
//     atomicity would otherwise bypass the mark silently).
//   Deliberate differences from numpy's in-place write: the directory must be writable (the
//   temporary lives there), and other hard links to the old file keep the old bytes.
#pragma once

#include "free_memory.hpp"  // io::return_free_memory (here before it had a header of its own)
#include "npy.hpp"          // kata::io_error

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#if defined(__GLIBC__) && __has_include(<malloc.h>)
#include <malloc.h>
#endif

#if __has_include(<unistd.h>) && __has_include(<fcntl.h>) && __has_include(<sys/stat.h>)
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#define KATA_IO_POSIX 1
#else
#define KATA_IO_POSIX 0
#endif

namespace kata::io {

namespace detail {

inline std::string file_type_name(std::filesystem::file_type t) {
    using ft = std::filesystem::file_type;
    switch (t) {
    case ft::directory: return "a directory";
    case ft::fifo: return "a FIFO (named pipe)";
    case ft::socket: return "a socket";
    case ft::character: return "a character device";
    case ft::block: return "a block device";
    case ft::symlink: return "a symbolic link";
    default: return "not a regular file";
    }
}

[[noreturn]] inline void not_regular(const std::filesystem::path& path, std::filesystem::file_type t) {
    throw io_error(path.string() + ": cannot read: " + file_type_name(t) +
                   ", not a regular file (kata reads arrays and parameters only from regular files)");
}

#if KATA_IO_POSIX
inline std::filesystem::file_type type_of_mode(mode_t m) {
    using ft = std::filesystem::file_type;
    if (S_ISDIR(m)) return ft::directory;
    if (S_ISFIFO(m)) return ft::fifo;
    if (S_ISSOCK(m)) return ft::socket;
    if (S_ISCHR(m)) return ft::character;
    if (S_ISBLK(m)) return ft::block;
    if (S_ISLNK(m)) return ft::symlink;
    return ft::unknown;
}
#endif

}  // namespace detail

/// Reads a whole regular file. Throws io_error naming the file if it is missing, not a regular
/// file (refused without blocking), unreadable, or changes size while being read.
inline std::vector<std::byte> read_file_bytes(const std::filesystem::path& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    // A first look without opening: opening some devices has side effects.
    const fs::file_status st = fs::status(path, ec);
    if (!ec && fs::exists(st) && !fs::is_regular_file(st)) detail::not_regular(path, st.type());
#if KATA_IO_POSIX
    const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        const int err = errno;
        throw io_error(path.string() + ": cannot open file for reading: " + std::strerror(err));
    }
    struct fd_closer {
        int fd;
        ~fd_closer() { ::close(fd); }
    } closer{fd};
    struct stat sb {};
    if (::fstat(fd, &sb) != 0) {
        const int err = errno;
        throw io_error(path.string() + ": cannot determine file size: " + std::strerror(err));
    }
    // Checked again on the descriptor: the path may have been replaced since the first look.
    if (!S_ISREG(sb.st_mode)) detail::not_regular(path, detail::type_of_mode(sb.st_mode));
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags >= 0) (void)::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    std::vector<std::byte> buf(static_cast<std::size_t>(sb.st_size));
    std::size_t got = 0;
    while (got < buf.size()) {
        const ::ssize_t r = ::read(fd, buf.data() + got, buf.size() - got);
        if (r < 0) {
            if (errno == EINTR) continue;
            const int err = errno;
            throw io_error(path.string() + ": read error: " + std::strerror(err));
        }
        if (r == 0)
            throw io_error(path.string() + ": file shrank while being read (" + std::to_string(got) + " of " +
                           std::to_string(buf.size()) + " bytes)");
        got += std::size_t(r);
    }
    return buf;
#else
    std::ifstream in(path, std::ios::binary);
    if (!in) throw io_error(path.string() + ": cannot open file for reading: " + std::strerror(errno));
    in.seekg(0, std::ios::end);
    const std::streamoff n = in.tellg();
    if (n < 0) throw io_error(path.string() + ": cannot determine file size");
    in.seekg(0, std::ios::beg);
    std::vector<std::byte> buf(static_cast<std::size_t>(n));
    if (n > 0 && !in.read(reinterpret_cast<char*>(buf.data()), n))
        throw io_error(path.string() + ": read error");
    return buf;
#endif
}

/// Gives the memory pages lying wholly inside `used` back to the system (madvise MADV_DONTNEED) and
/// returns their byte count: for a buffer the caller owns (read_file_bytes' result) whose range it
/// has finished reading; reading them again gives zeros. parameter_store::load uses it on each
/// array it has copied, so loading a file never holds the whole file and all its copies at once.
/// Best effort: a no-op (0) where there is no madvise or the range spans no whole page.
inline std::size_t release_pages(std::span<const std::byte> used) noexcept {
#if KATA_IO_POSIX && defined(MADV_DONTNEED)
    const long page = ::sysconf(_SC_PAGESIZE);
    if (page <= 0 || used.empty()) return 0;
    const auto ps = std::uintptr_t(page);
    const std::uintptr_t begin = (reinterpret_cast<std::uintptr_t>(used.data()) + ps - 1) / ps * ps;
    const std::uintptr_t end = (reinterpret_cast<std::uintptr_t>(used.data()) + used.size()) / ps * ps;
    if (end <= begin) return 0;
    if (::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED) != 0) return 0;
    return std::size_t(end - begin);
#else
    (void)used;
    return 0;
#endif
}

namespace detail {

/// Test hook: called with "written" (temp file written, before fsync) and "before_rename". A test
/// can throw from it to simulate a failure at that point. Never set outside tests.
inline thread_local void (*atomic_write_fault_hook)(std::string_view stage) = nullptr;

inline std::filesystem::path temp_path_for(const std::filesystem::path& target) {
    static std::atomic<unsigned> counter{0};
#if KATA_IO_POSIX
    const long pid = static_cast<long>(::getpid());
#else
    const long pid = 0;
#endif
    std::filesystem::path tmp = target;
    tmp += ".tmp." + std::to_string(pid) + "." + std::to_string(counter.fetch_add(1));
    return tmp;
}

/// The file a write to `target` lands in: `target` itself, or the end of its symbolic-link chain
/// (relative links resolve against the directory of the link that holds them).
inline std::filesystem::path resolve_write_target(const std::filesystem::path& target) {
    namespace fs = std::filesystem;
    fs::path p = target;
    for (int hops = 0; hops < 40; ++hops) {
        std::error_code ec;
        if (!fs::is_symlink(fs::symlink_status(p, ec)) || ec) return p;
        const fs::path link = fs::read_symlink(p, ec);
        if (ec)
            throw io_error(target.string() + ": cannot read symbolic link " + p.string() + ": " +
                           ec.message());
        p = link.is_absolute() ? link : p.parent_path() / link;
    }
    throw io_error(target.string() + ": cannot write: too many levels of symbolic links");
}

}  // namespace detail

/// Replaces `target` (or, for a symbolic link, the file it leads to) with `bytes` atomically, keeping
/// an existing file's permission bits; refuses a read-only target. See the header comment. Throws
/// io_error naming the target; on failure the temporary is removed and an existing file is intact.
inline void atomic_write_file(const std::filesystem::path& target, std::span<const std::byte> bytes) {
    namespace fs = std::filesystem;
    const fs::path dest = detail::resolve_write_target(target);
    const std::string t = dest == target ? target.string() : target.string() + " (-> " + dest.string() + ")";
    const fs::path tmp = detail::temp_path_for(dest);
    bool created = false;
    struct cleanup {
        const fs::path& p;
        bool& active;
        ~cleanup() {
            if (active) {
                std::error_code ec;
                fs::remove(p, ec);
            }
        }
    } guard{tmp, created};
    auto sys_fail = [&](const char* step, int err) {
        throw io_error(t + ": cannot write (" + step + " " + tmp.filename().string() +
                       "): " + std::strerror(err));
    };
#if KATA_IO_POSIX
    // The existing file's mode and owner, carried over to the replacement.
    struct stat old {};
    const bool exists = ::stat(dest.c_str(), &old) == 0;
    if (exists && S_ISREG(old.st_mode)) {
        const bool no_write_bits = (old.st_mode & 0222) == 0;
        if (no_write_bits || ::access(dest.c_str(), W_OK) != 0) {
            char mode[8];
            std::snprintf(mode, sizeof mode, "%04o", unsigned(old.st_mode & 07777));
            throw io_error(t + ": cannot write: the file is read-only (mode " + mode +
                           "); numpy.savez refuses it too (PermissionError). The file is unchanged.");
        }
    }
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) sys_fail("create", errno);
    created = true;
    struct fd_closer {
        int fd;
        bool open = true;
        ~fd_closer() {
            if (open) ::close(fd);
        }
    } closer{fd};
    if (exists && S_ISREG(old.st_mode)) {
        // Owner first (chown may clear mode bits), best effort: only root or the owner may set it.
        (void)::fchown(fd, old.st_uid, old.st_gid);
        if (::fchmod(fd, old.st_mode & 0777) != 0) sys_fail("chmod", errno);
    }
    const std::byte* p = bytes.data();
    std::size_t left = bytes.size();
    while (left > 0) {
        const ::ssize_t w = ::write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR) continue;
            sys_fail("write", errno);
        }
        p += w;
        left -= std::size_t(w);
    }
    if (detail::atomic_write_fault_hook) detail::atomic_write_fault_hook("written");
    // fsync so that a crash after the rename cannot leave a renamed-but-empty file. EINVAL/ENOTSUP:
    // the file system cannot sync (pipes, some FUSE); the write itself succeeded.
    if (::fsync(fd) != 0 && errno != EINVAL && errno != ENOTSUP) sys_fail("fsync", errno);
    closer.open = false;
    if (::close(fd) != 0) sys_fail("close", errno);
#else
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) sys_fail("create", errno);
        created = true;
        out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
        out.flush();
        if (!out) sys_fail("write", errno);
    }
    if (detail::atomic_write_fault_hook) detail::atomic_write_fault_hook("written");
#endif
    if (detail::atomic_write_fault_hook) detail::atomic_write_fault_hook("before_rename");
    std::error_code ec;
    fs::rename(tmp, dest, ec);
    if (ec) throw io_error(t + ": cannot replace with " + tmp.filename().string() + ": " + ec.message());
    created = false;
#if KATA_IO_POSIX
    // Persist the directory entry too (best effort: not every file system allows opening dirs).
    fs::path dir = dest.parent_path();
    if (dir.empty()) dir = ".";
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)::fsync(dfd);
        ::close(dfd);
    }
#endif
}

}  // namespace kata::io
