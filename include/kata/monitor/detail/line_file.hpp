// kata/monitor/detail/line_file.hpp: the text file of a MonitorSeries / MonitorTimeElapsed.
//
// nnabla opens it with open(path, 'w', 1): truncated when the monitor is created, then one line
// appended per flush and flushed at once (line buffering), so a plot of a running training, or of one
// that was killed, sees every line written so far. Not atomic on purpose: the file grows while the
// training runs (a whole-file rewrite per line would cost O(n^2)); a line is written with one fputs
// and flushed, so a reader sees whole lines except possibly the last one of a killed process.
#pragma once

#include "../../io/npy.hpp"  // kata::io_error

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

namespace kata::monitor::detail {

class line_file {
public:
    line_file() = default;
    explicit line_file(const std::filesystem::path& path) : path_(path) {
        file_ = std::fopen(path.c_str(), "w");
        if (!file_)
            throw kata::io_error(path.string() + ": cannot open for writing: " + std::strerror(errno));
    }
    line_file(const line_file&) = delete;
    line_file& operator=(const line_file&) = delete;
    line_file(line_file&& o) noexcept : path_(std::move(o.path_)), file_(o.file_) { o.file_ = nullptr; }
    line_file& operator=(line_file&& o) noexcept {
        std::swap(path_, o.path_);
        std::swap(file_, o.file_);
        return *this;
    }
    ~line_file() {
        if (file_) std::fclose(file_);
    }

    bool is_open() const { return file_ != nullptr; }
    const std::filesystem::path& path() const { return path_; }

    void write_line(const std::string& line) {
        if (!file_) return;
        if (std::fputs((line + "\n").c_str(), file_) < 0 || std::fflush(file_) != 0)
            throw kata::io_error(path_.string() + ": write error: " + std::strerror(errno));
    }

private:
    std::filesystem::path path_;
    std::FILE* file_ = nullptr;
};

}  // namespace kata::monitor::detail
