// kata/monitor/monitor_time_elapsed.hpp: kata::monitor::MonitorTimeElapsed, nnabla.monitor.MonitorTimeElapsed.
//
// add(index) follows MonitorSeries' flush rule (index - last_flush >= interval, last_flush from -1).
// At a flush it appends "<index> <seconds since the previous flush> <iterations since the previous
// flush> <seconds since construction>" to "<save_path>/<name, spaces -> '-'>.timer.txt" (the times in
// Python's float repr, as nnabla writes them) and logs "iter=<i> {<name>}=<s>[sec/<n>iter] <total>[sec]".
// Time is std::chrono::steady_clock (nnabla: time.time(), which jumps with the wall clock).
#pragma once

#include "detail/format.hpp"
#include "detail/line_file.hpp"
#include "monitor.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>

namespace kata::monitor {

class MonitorTimeElapsed {
public:
    /// Seconds on some monotonic clock; injectable for tests.
    using clock_function = std::function<double()>;

    MonitorTimeElapsed(std::string name, const Monitor& monitor, std::int64_t interval = 100,
                       bool verbose = true, clock_function clock = {})
        : MonitorTimeElapsed(std::move(name), &monitor, interval, verbose, std::move(clock)) {}
    explicit MonitorTimeElapsed(std::string name, const Monitor* monitor = nullptr,
                                std::int64_t interval = 100, bool verbose = true, clock_function clock = {})
        : name_(std::move(name)), interval_(interval), verbose_(verbose), clock_(std::move(clock)) {
        const std::string stem = detail::file_stem(name_, "MonitorTimeElapsed");
        if (interval_ < 1)
            throw std::invalid_argument("MonitorTimeElapsed '" + name_ + "': interval must be >= 1");
        if (!clock_)
            clock_ = [] {
                return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
                    .count();
            };
        if (monitor) file_ = detail::line_file(monitor->save_path() / (stem + ".timer.txt"));
        start_ = lap_ = clock_();
    }

    void add(std::int64_t index) {
        if (index - flush_at_ < interval_) return;
        const double now = clock_();
        const double elapsed = now - lap_, total = now - start_;
        const std::int64_t iterations = index - flush_at_;
        lap_ = now;
        if (verbose_)
            detail::log_info("iter=" + std::to_string(index) + " {" + name_ +
                             "}=" + detail::python_repr(elapsed) + "[sec/" + std::to_string(iterations) +
                             "iter] " + detail::python_repr(total) + "[sec]");
        file_.write_line(std::to_string(index) + " " + detail::python_repr(elapsed) + " " +
                         std::to_string(iterations) + " " + detail::python_repr(total));
        flush_at_ = index;
    }

    const std::string& name() const { return name_; }
    const std::filesystem::path& path() const { return file_.path(); }

private:
    std::string name_;
    std::int64_t interval_;
    bool verbose_;
    clock_function clock_;
    detail::line_file file_;
    std::int64_t flush_at_ = -1;
    double start_ = 0, lap_ = 0;
};

}  // namespace kata::monitor
