// kata_weights_header: writes the arrays of an .npz file (numpy.savez, or kata::parameter_store::save)
// as a C++ header of constant arrays plus the constant parameter table of kata's embedded builds
// (kata/embedded/host/weights_header.hpp says what the header holds and why).
//
//     kata_weights_header [--namespace NS] [--table NAME] [--only name,name,...] input.npz output.hpp
//
// --only keeps the listed arrays (in the file's order); an unknown name is an error. Exit status 0 on
// success (also when the header was already up to date), 1 with a message on stderr otherwise.
#include <kata/embedded/host/weights_header.hpp>

#include <cstdio>
#include <exception>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

int usage() {
    std::fputs(
        "usage: kata_weights_header [--namespace NS] [--table NAME] [--only a,b,...] input.npz output.hpp\n",
        stderr);
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    kata::embedded::host::weights_header_options opt;
    std::vector<std::string> files;
    std::set<std::string> only;
    bool filter = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if ((a == "--namespace" || a == "--table" || a == "--only") && i + 1 < argc) {
            const std::string v = argv[++i];
            if (a == "--namespace")
                opt.namespace_name = v;
            else if (a == "--table")
                opt.table_name = v;
            else {
                filter = true;
                std::stringstream ss(v);
                for (std::string n; std::getline(ss, n, ',');)
                    if (!n.empty()) only.insert(n);
            }
        } else if (!a.empty() && a[0] == '-') {
            return usage();
        } else {
            files.push_back(a);
        }
    }
    if (files.size() != 2) return usage();
    try {
        const std::vector<std::byte> bytes = kata::io::read_file_bytes(files[0]);
        const auto npz = kata::io::read_npz(bytes, files[0]);
        std::vector<kata::embedded::host::weights_entry> entries;
        for (const auto& e : kata::embedded::host::weights_entries(npz))
            if (!filter || only.erase(e.name)) entries.push_back(e);
        if (!only.empty()) {
            std::string missing;
            for (const auto& n : only) missing += (missing.empty() ? "'" : ", '") + n + "'";
            std::fprintf(stderr, "kata_weights_header: %s: no array %s\n", files[0].c_str(), missing.c_str());
            return 1;
        }
        opt.source = std::filesystem::path(files[0]).filename().string();
        const std::filesystem::path dir = std::filesystem::path(files[1]).parent_path();
        if (!dir.empty()) std::filesystem::create_directories(dir);
        const bool written = kata::embedded::host::write_weights_header(files[1], entries, opt);
        std::printf("kata_weights_header: %s %s (%zu arrays)\n", files[1].c_str(),
                    written ? "written" : "up to date", entries.size());
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
}
