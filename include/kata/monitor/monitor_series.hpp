// kata/monitor/monitor_series.hpp: kata::monitor::MonitorSeries, nnabla.monitor.MonitorSeries.
//
//   kata::monitor::Monitor monitor("tmp.monitor");
//   kata::monitor::MonitorSeries loss("Training loss", monitor, /*interval=*/10);
//   for (int i = 0; i < n; ++i) loss.add(i, value);    // -> tmp.monitor/Training-loss.series.txt
//
// nnabla's rule, exactly: add(index, value) appends the value to a buffer; when index - last_flush >=
// interval (last_flush starts at -1) the mean of the buffer is logged ("iter=<i> {<name>}=<mean>"),
// the line "<index> <mean formatted {:g}>" is appended to "<save_path>/<name, spaces -> '-'>.series.txt",
// last_flush = index and the buffer is emptied. With interval 10 and indices 0, 1, 2, ... the first
// line is written at index 9. An array value contributes all its elements (numpy.mean of a list of
// equally shaped arrays is the mean of all elements). Without a monitor nothing is written (only the log).
// The file is truncated at construction and appended to line by line (detail/line_file.hpp).
#pragma once

#include "detail/format.hpp"
#include "detail/line_file.hpp"
#include "monitor.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>

namespace kata::monitor {

class MonitorSeries {
public:
    MonitorSeries(std::string name, const Monitor& monitor, std::int64_t interval = 1, bool verbose = true)
        : MonitorSeries(std::move(name), &monitor, interval, verbose) {}
    explicit MonitorSeries(std::string name, const Monitor* monitor = nullptr, std::int64_t interval = 1,
                           bool verbose = true)
        : name_(std::move(name)), interval_(interval), verbose_(verbose) {
        const std::string stem = detail::file_stem(name_, "MonitorSeries");
        if (interval_ < 1)
            throw std::invalid_argument("MonitorSeries '" + name_ + "': interval must be >= 1");
        if (monitor) file_ = detail::line_file(monitor->save_path() / (stem + ".series.txt"));
    }

    void add(std::int64_t index, double value) {
        sum_ += value;
        count_ += 1;
        maybe_flush(index);
    }
    /// An array value (e.g. a loss per example): all its elements join the mean.
    template <class T>
    void add(std::int64_t index, std::span<const T> values) {
        for (const T& v : values) sum_ += static_cast<double>(v);
        count_ += values.size();
        maybe_flush(index);
    }

    const std::string& name() const { return name_; }
    std::int64_t interval() const { return interval_; }
    /// The file written to (empty without a monitor).
    const std::filesystem::path& path() const { return file_.path(); }

private:
    void maybe_flush(std::int64_t index) {
        if (index - flush_at_ < interval_) return;
        const double mean = count_ ? sum_ / static_cast<double>(count_) : std::nan("");
        if (verbose_)
            detail::log_info("iter=" + std::to_string(index) + " {" + name_ +
                             "}=" + detail::python_repr(mean));
        file_.write_line(std::to_string(index) + " " + detail::format_g(mean));
        flush_at_ = index;
        sum_ = 0;
        count_ = 0;
    }

    std::string name_;
    std::int64_t interval_;
    bool verbose_;
    detail::line_file file_;
    std::int64_t flush_at_ = -1;
    double sum_ = 0;
    std::size_t count_ = 0;
};

}  // namespace kata::monitor
