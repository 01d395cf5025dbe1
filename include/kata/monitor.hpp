// kata/monitor.hpp: nnabla.monitor in namespace kata::monitor: Monitor, MonitorSeries, MonitorTimeElapsed,
// MonitorImage (PNG files without a library), and a ProgressBar. File formats and flush rules are
// nnabla's; see docs/data.md ("Monitors") and tools/plot_monitor.sh for the training curves.
#pragma once
#include "monitor/monitor.hpp"
#include "monitor/monitor_series.hpp"
#include "monitor/monitor_time_elapsed.hpp"
#include "monitor/png.hpp"
#include "monitor/monitor_image.hpp"
#include "monitor/progress_bar.hpp"
