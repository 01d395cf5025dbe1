// kata/monitor/monitor.hpp: kata::monitor::Monitor, nnabla.monitor.Monitor: the directory the monitors
// write to. Created (with its parents) if missing, as nnabla does (os.makedirs(exist_ok=True)).
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

namespace kata::monitor {

class Monitor {
public:
    explicit Monitor(std::filesystem::path save_path) : save_path_(std::move(save_path)) {
        if (save_path_.empty()) throw std::invalid_argument("Monitor: empty save_path");
        std::error_code ec;
        std::filesystem::create_directories(save_path_, ec);
        if (ec || !std::filesystem::is_directory(save_path_))
            throw std::runtime_error("Monitor: cannot create directory " + save_path_.string() +
                                     (ec ? ": " + ec.message() : std::string(": not a directory")));
    }
    const std::filesystem::path& save_path() const { return save_path_; }

private:
    std::filesystem::path save_path_;
};

}  // namespace kata::monitor
