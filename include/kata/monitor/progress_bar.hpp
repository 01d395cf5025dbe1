// kata/monitor/progress_bar.hpp: kata::monitor::ProgressBar, a progress display with rate and ETA.
//
//   kata::monitor::ProgressBar bar(iter_per_epoch, "epoch 3");
//   for (...) { ...; bar.update(); bar.set_postfix("loss=" + ...); }
//   bar.close();                                     // also done by the destructor
//
// On a terminal (isatty of the stream) it redraws one line in place ('\r'), at most every 0.1 s and at
// the end, as tqdm does:  "epoch 3  42%|####      | 420/1000 [00:05<00:07, 83.10it/s] loss=0.31".
// Otherwise (a log file, CI) it prints plain lines, one each time another tenth of the total is done
// and one at the end: "epoch 3: 420/1000 (42%) 83.10 it/s, elapsed 00:05, ETA 00:07 loss=0.31", so a log
// gets a bounded number of lines without control characters. nnabla itself has no progress bar in its
// monitors (its tools use tqdm); this is kata's, for the trainers.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <functional>
#include <string>

#include <unistd.h>

namespace kata::monitor {

class ProgressBar {
public:
    using clock_function = std::function<double()>;
    enum class mode { automatic, terminal, lines };

    explicit ProgressBar(std::size_t total, std::string description = {}, std::FILE* out = stderr,
                         mode m = mode::automatic, clock_function clock = {})
        : total_(total), description_(std::move(description)), out_(out), clock_(std::move(clock)) {
        if (!clock_)
            clock_ = [] {
                return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
                    .count();
            };
        terminal_ = m == mode::terminal || (m == mode::automatic && out_ && ::isatty(::fileno(out_)));
        start_ = last_draw_ = clock_();
    }
    ProgressBar(const ProgressBar&) = delete;
    ProgressBar& operator=(const ProgressBar&) = delete;
    ~ProgressBar() { close(); }

    void update(std::size_t n = 1) {
        if (closed_) return;
        done_ = std::min(total_, done_ + n);
        const double now = clock_();
        if (terminal_) {
            if (now - last_draw_ >= 0.1 || done_ == total_) draw(now);
        } else if (total_ > 0) {
            const std::size_t tenth = done_ * 10 / total_;
            if (tenth > printed_tenth_) {
                printed_tenth_ = tenth;
                emit(line(now) + "\n");
            }
        }
    }
    void set_postfix(std::string text) { postfix_ = std::move(text); }

    /// Draws the final state and ends the line (terminal); idempotent.
    void close() {
        if (closed_) return;
        closed_ = true;
        if (terminal_) {
            draw(clock_());
            emit("\n");
        } else if (total_ == 0 || printed_tenth_ < 10) {
            emit(line(clock_()) + "\n");
        }
    }

    bool is_terminal() const { return terminal_; }
    std::size_t n() const { return done_; }

    /// "MM:SS", or "H:MM:SS" from one hour on (tqdm's format).
    static std::string format_interval(double seconds) {
        if (!std::isfinite(seconds) || seconds < 0) return "?";
        const long long s = static_cast<long long>(seconds);
        char buf[32];
        if (s >= 3600)
            std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, (s / 60) % 60, s % 60);
        else
            std::snprintf(buf, sizeof buf, "%02lld:%02lld", s / 60, s % 60);
        return buf;
    }

    /// The current text (without '\r' or newline).
    std::string line(double now) const {
        const double elapsed = now - start_;
        const double rate = elapsed > 0 ? static_cast<double>(done_) / elapsed : 0.0;
        const double eta = rate > 0 ? static_cast<double>(total_ - done_) / rate : -1.0;
        const int percent = total_ ? static_cast<int>(done_ * 100 / total_) : 100;
        char rate_text[32];
        if (rate > 0)
            std::snprintf(rate_text, sizeof rate_text, "%.2f", rate);
        else
            std::snprintf(rate_text, sizeof rate_text, "?");
        const std::string counts = std::to_string(done_) + "/" + std::to_string(total_);
        std::string s;
        if (terminal_) {
            constexpr std::size_t width = 20;
            const std::size_t filled = total_ ? done_ * width / total_ : width;
            char pct[8];
            std::snprintf(pct, sizeof pct, "%3d%%", percent);
            s = (description_.empty() ? "" : description_ + " ") + pct + "|" + std::string(filled, '#') +
                std::string(width - filled, ' ') + "| " + counts + " [" + format_interval(elapsed) + "<" +
                format_interval(eta) + ", " + rate_text + "it/s]";
        } else {
            s = (description_.empty() ? "" : description_ + ": ") + counts + " (" + std::to_string(percent) +
                "%) " + rate_text + " it/s, elapsed " + format_interval(elapsed) + ", ETA " +
                format_interval(eta);
        }
        if (!postfix_.empty()) s += " " + postfix_;
        return s;
    }

private:
    void draw(double now) {
        last_draw_ = now;
        std::string s = line(now);
        const std::size_t len = s.size();
        if (len < last_len_) s += std::string(last_len_ - len, ' ');  // erase the rest of a longer line
        last_len_ = len;
        emit("\r" + s);
    }
    void emit(const std::string& s) {
        if (!out_) return;
        std::fputs(s.c_str(), out_);
        std::fflush(out_);
    }

    std::size_t total_;
    std::string description_;
    std::FILE* out_;
    clock_function clock_;
    bool terminal_ = false;
    bool closed_ = false;
    std::size_t done_ = 0;
    std::size_t printed_tenth_ = 0;
    std::size_t last_len_ = 0;
    std::string postfix_;
    double start_ = 0, last_draw_ = 0;
};

}  // namespace kata::monitor
