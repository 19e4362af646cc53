#include "sw/app/run_job.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <deque>
#include <exception>
#include <fstream>
#include <iomanip>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "hw/platform.h"
#include "rtl/rtl_adc_converter.h"
#include "rtl/rtl_swis_pe.h"
#include "sw/compiler/network_compiler.h"
#include "sw/driver/command_stream_recorder.h"
#include "sw/driver/host_cpu.h"
#include "sw/formats/idx_dataset.h"
#include "sw/formats/model_file.h"
#include "sw/reference/network_reference.h"

namespace cimvp {

namespace {

// Training images the ADC calibration looks at when a layer must be recalibrated.
constexpr int kCalibrationImages = 256;
// Nice value of the thread that checks the logits beside the simulation (the lowest priority).
constexpr int kCheckerNice = 19;

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }
double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

class Progress {
public:
    Progress(bool on, int total) : on_(on), tty_(isatty(STDERR_FILENO) != 0), total_(total), t0_(Clock::now()) {}
    void update(int done, int correct) {
        if (!on_) return;
        const double rate = done / std::max(1e-9, since(t0_));
        if (tty_) {
            constexpr int kWidth = 30;
            const int fill = total_ ? done * kWidth / total_ : kWidth;
            std::fprintf(stderr, "\r[%s%s] %d/%d images  accuracy %.2f%%  %.0f images/s", std::string(fill, '#').c_str(),
                         std::string(kWidth - fill, '.').c_str(), done, total_, 100.0 * correct / std::max(1, done), rate);
            if (done == total_) std::fputc('\n', stderr);
        } else if (done == total_ || done * 10 / std::max(1, total_) != last_decile_) {
            last_decile_ = done * 10 / std::max(1, total_);
            std::fprintf(stderr, "%d/%d images, accuracy %.2f%%, %.0f images/s\n", done, total_,
                         100.0 * correct / std::max(1, done), rate);
        }
        std::fflush(stderr);
    }

private:
    bool on_, tty_;
    int total_;
    int last_decile_ = 0;
    Clock::time_point t0_;
};

struct Fnv64 {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    void add(const void* p, std::size_t n) {
        const auto* b = static_cast<const std::uint8_t*>(p);
        for (std::size_t i = 0; i < n; ++i) {
            h ^= b[i];
            h *= 0x100000001b3ULL;
        }
    }
    std::string hex() const {
        std::ostringstream os;
        os << std::hex << std::setw(16) << std::setfill('0') << h;
        return os.str();
    }
};

// Checks the platform's logits batch by batch on a thread of its own while the simulation
// goes on: the accuracy against the labels, the agreement with the C++ reference evaluating
// the same plan (when given one), the digest of every logit in image order, the progress line.
class LogitsChecker {
public:
    struct Counts {
        int correct = 0, agree = 0;
        std::string digest;
        double reference_s = 0;  // the check's CPU time (its thread yields to the simulation: not its wall time)
    };

    // reference: null when the logits are not to be compared.
    LogitsChecker(const NetworkReference* reference, const ImageSet& test, int classes, Progress& progress)
        : reference_(reference), test_(test), classes_(classes), progress_(progress), thread_([this] { work(); }) {}
    ~LogitsChecker() { stop(); }

    // The logits (n x num_classes) of the images first, first + 1, ...; batches in order.
    void submit(int first, std::vector<std::int64_t> logits) {
        {
            const std::lock_guard<std::mutex> lock(mutex_);
            queue_.push_back({first, std::move(logits)});
        }
        wake_.notify_one();
    }
    // Waits until every submitted batch is checked; rethrows what the check threw.
    Counts finish() {
        stop();
        if (error_) std::rethrow_exception(error_);
        counts_.digest = digest_.hex();
        return counts_;
    }

private:
    struct Batch {
        int first = 0;
        std::vector<std::int64_t> logits;
    };

    void stop() {
        {
            const std::lock_guard<std::mutex> lock(mutex_);
            done_ = true;
        }
        wake_.notify_one();
        if (thread_.joinable()) thread_.join();
    }

    void work() {
        // Background work: where the cores are busy, the simulation it runs beside goes first (Linux
        // sets a thread's own nice value; the check then catches up once the simulation is done).
        setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), kCheckerNice);
        for (;;) {
            Batch b;
            {
                std::unique_lock<std::mutex> lock(mutex_);
                wake_.wait(lock, [this] { return done_ || !queue_.empty(); });
                if (queue_.empty()) return;
                b = std::move(queue_.front());
                queue_.pop_front();
            }
            if (error_) continue;
            try {
                check(b);
            } catch (...) {
                error_ = std::current_exception();
            }
        }
    }

    void check(const Batch& b) {
        digest_.add(b.logits.data(), b.logits.size() * sizeof(std::int64_t));
        const int n = static_cast<int>(b.logits.size() / static_cast<std::size_t>(classes_));
        const double t0 = thread_cpu_seconds();
        for (int i = 0; i < n; ++i) {
            const std::vector<std::int64_t> mine(b.logits.begin() + static_cast<std::ptrdiff_t>(i) * classes_,
                                                 b.logits.begin() + static_cast<std::ptrdiff_t>(i + 1) * classes_);
            counts_.correct += argmax(mine) == test_.labels[b.first + i];
            const auto image = static_cast<std::uint64_t>(b.first + i);
            if (reference_) counts_.agree += reference_->logits(test_.image(b.first + i), image) == mine;
        }
        counts_.reference_s += thread_cpu_seconds() - t0;
        progress_.update(b.first + n, counts_.correct);
    }

    const NetworkReference* reference_;
    const ImageSet& test_;
    std::ptrdiff_t classes_;
    Progress& progress_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Batch> queue_;
    bool done_ = false;
    std::exception_ptr error_;
    Counts counts_;
    Fnv64 digest_;
    std::thread thread_;  // last: starts once everything above is constructed
};

}  // namespace

int resolve_layer(const NetworkModel& model, const std::string& which, const std::string& flag) {
    std::string names;
    int convs = 0, fcs = 0;
    for (std::size_t l = 0; l < model.layers.size(); ++l) {
        const bool conv = model.layers[l].kind == LayerKind::kConv;
        const std::string kind = (conv ? "conv" : "fc") + std::to_string(conv ? ++convs : ++fcs);
        if (which == std::to_string(l) || which == model.layer_name(l) || which == kind) return static_cast<int>(l);
        names += (names.empty() ? "" : ", ") + std::to_string(l) + " = " + kind;
    }
    throw std::invalid_argument(flag + ": expected a layer index or name of the model (" + names + "), got '" +
                                which + "'");
}

std::string expected_results_path(const std::string& model_path) {
    const std::string ext = ".cimvp";
    std::string base = model_path;
    if (base.size() > ext.size() && base.compare(base.size() - ext.size(), ext.size(), ext) == 0)
        base.resize(base.size() - ext.size());
    return base + ".expected.json";
}

NetworkOptions network_options(const NetworkModel& model, const RunJobSpec& spec) {
    NetworkOptions o = spec.pe_layers == "default" ? NetworkOptions::defaults_for(model) : NetworkOptions{};
    const std::size_t n = model.layers.size();
    if (spec.pe_layers == "all") o.on_pe.assign(n, true);
    if (spec.pe_layers != "default" && spec.pe_layers != "none" && spec.pe_layers != "all") {
        o.on_pe.assign(n, false);
        std::stringstream ss(spec.pe_layers);
        std::string item;
        while (std::getline(ss, item, ',')) {
            std::size_t pos = 0;
            int l = -1;
            try {
                l = std::stoi(item, &pos);
            } catch (const std::exception&) {
                pos = 0;
            }
            if (pos != item.size() || l < 0 || static_cast<std::size_t>(l) >= n)
                throw std::invalid_argument("--pe-layers: expected default, none, all or layer indices 0.." +
                                            std::to_string(n - 1) + " separated by commas, got '" + spec.pe_layers + "'");
            o.on_pe[static_cast<std::size_t>(l)] = true;
        }
    }
    if (spec.swis_shifts < 1 || spec.swis_shifts > swis::kShiftPositions)
        throw std::invalid_argument("--swis-shifts: expected 1..8, got " + std::to_string(spec.swis_shifts));
    o.swis_shifts = spec.swis_shifts;
    if (spec.swis_shifts < swis::kShiftPositions)
        for (std::size_t l = 0; l < n; ++l)
            if (o.pe(l) && model.layers[l].swis)
                throw std::invalid_argument("--swis-shifts: " + model.layer_name(l) +
                                            " runs the SWIS groups stored in the model file (format v2); "
                                            "expected no --swis-shifts (8) with a stored model");
    o.double_shift = !spec.single_shift;
    return o;
}

RunJobResult run_network_job(const ArchConfig& cfg, const RunJobSpec& spec) {
    RunJobResult r;
    const NetworkModel model = load_model(spec.model_path);
    NetworkOptions options = network_options(model, spec);
    options.batch = spec.batch;
    check_model_fits(model, cfg, options.on_pe);
    if (model.in_c != 1 || model.in_bits != 8)
        throw ModelError(spec.model_path + ": input: expected 1 channel of 8-bit pixels for an IDX data set, got " +
                         std::to_string(model.in_c) + " channels of " + std::to_string(model.in_bits) + " bits");
    const ImageSet test = load_idx_dataset(spec.data_dir, "t10k", spec.limit);
    if (test.height != model.in_h || test.width != model.in_w)
        throw ModelError(spec.model_path + ": input: expected " + std::to_string(test.height) + "x" +
                         std::to_string(test.width) + " images (the data set's), the model takes " +
                         std::to_string(model.in_h) + "x" + std::to_string(model.in_w));
    ImageSet calib;
    if (needs_calibration(model, cfg, options))
        calib = load_idx_dataset(spec.data_dir, "train", kCalibrationImages);
    const ExecutionPlan plan =
        compile_with_reference(model, cfg, options, calib.count ? calib.pixels.data() : nullptr, calib.count);
    r.model_name = model.name;
    r.scheme = model.scheme;
    r.resident = plan.resident;
    r.activations_on_chip = plan.activations_on_chip;
    for (std::size_t l = 0; l < model.layers.size(); ++l)
        if (plan.layers[l].adc_recalibrated) r.recalibrated.push_back(model.layer_name(l));

    const int vcd_layer = spec.waveforms.layer.empty() ? -1 : resolve_layer(model, spec.waveforms.layer, "--vcd-layer");
    if (spec.waveforms.image && *spec.waveforms.image >= static_cast<std::uint64_t>(test.count))
        throw std::invalid_argument("--vcd-image: expected an image index 0.." + std::to_string(test.count - 1) +
                                    " of the images run, got " + std::to_string(*spec.waveforms.image));
    // The RTL twins stand in for every ADC bank's converter and for the PE array's datapath.
    std::unique_ptr<RtlAdcConverter> rtl_adc;
    std::unique_ptr<RtlSwisPe> rtl_pe;
    if (spec.rtl) {
        rtl_adc = std::make_unique<RtlAdcConverter>();
        rtl_pe = std::make_unique<RtlSwisPe>(options.double_shift ? PeMode::kDoubleShift : PeMode::kSingleShift);
        if (!spec.rtl_vcd.empty()) {
            const auto ps = [](double ns) { return static_cast<std::uint64_t>(std::llround(ns * 1000.0)); };
            rtl_adc->open_vcd(spec.rtl_vcd + ".sar_adc.vcd", spec.rtl_vcd_cycles, ps(cfg.adc.cycle_ns));
            rtl_pe->open_vcd(spec.rtl_vcd + ".swis_pe.vcd", spec.rtl_vcd_cycles, ps(cfg.digital.clock_ns));
        }
    }
    Platform platform("platform", cfg);
    Waveforms waves;
    if (spec.waveforms.enabled()) waves = open_waveforms(spec.waveforms, platform);
    if (waves.recorder && spec.rtl) {  // the RTL's side in the same file (docs/debugging.md)
        rtl_adc->attach_waveforms(*waves.recorder, "rtl.sar_adc");
        rtl_pe->attach_waveforms(*waves.recorder, "rtl.swis_pe");
    }
    if (spec.rtl) {
        for (auto& t : platform.tiles) t->adc.set_converter(rtl_adc.get());
        platform.pe_array.set_datapath(rtl_pe.get());
    }
    const std::uint64_t adc_reset_cycles = rtl_adc ? rtl_adc->cycles() : 0;
    const bool gate_rtl = !spec.rtl_vcd.empty() && spec.waveforms.enabled() && spec.waveforms.gated();
    if (gate_rtl) {
        rtl_adc->set_vcd_gate(false);
        rtl_pe->set_vcd_gate(false);
    }
    // The host program runs the network and hands over each batch's logits; the checker counts and
    // compares them on a thread of its own, beside the simulation.
    Progress progress(spec.progress, test.count);
    const NetworkReference reference(plan);
    LogitsChecker checker(spec.check_reference ? &reference : nullptr, test, model.num_classes, progress);
    std::vector<RunStats> layer_stats;
    HostCpu host("host", [&](HostCpu& cpu) {
        Driver driver(cpu, cfg);
        NetworkRunner runner(driver, plan, [&] { return platform.energy(); });
        if (waves.recorder) {
            driver.set_waveforms(waves.recorder.get(), waves.list);
            runner.set_layer_hook([&](std::size_t l, std::uint64_t first, int n, bool begin) {
                waves.layer_list(spec.waveforms, vcd_layer, l, first, n, begin, cpu.now());
                // --vcd-layer and --vcd-image select the RTL's clocks too (docs/rtl.md).
                if (gate_rtl && selects(spec.waveforms, vcd_layer, l, first, n)) {
                    rtl_adc->set_vcd_gate(begin);
                    rtl_pe->set_vcd_gate(begin);
                }
            });
        }
        runner.program();
        for (int first = 0; first < test.count; first += spec.batch) {
            const int n = std::min(spec.batch, test.count - first);
            checker.submit(first, runner.run_batch(test.image(first), n, static_cast<std::uint64_t>(first)));
        }
        r.programming = runner.programming();
        layer_stats = runner.layer_stats();
    });
    platform.router.attach("host", host.bus_socket);
    host.irq.bind(platform.irq);
    CommandStreamRecorder recorder(cfg);
    if (!spec.record_path.empty()) host.set_observer(&recorder);
    const auto t0 = Clock::now();
    host.run();
    r.wall_s = since(t0);
    const LogitsChecker::Counts counts = checker.finish();
    r.correct = counts.correct;
    r.agree = counts.agree;
    r.reference_wall_s = counts.reference_s;
    if (waves.recorder) waves.recorder->close();
    if (!spec.record_path.empty())
        recorder.write(spec.record_path,
                       {{"command", "run"}, {"model", spec.model_path}, {"model_name", model.name},
                        {"images", test.count}, {"batch", spec.batch}, {"pe_layers", spec.pe_layers},
                        {"swis_shifts", spec.swis_shifts}, {"single_shift", spec.single_shift}},
                       sc_core::sc_time_stamp());

    if (spec.rtl) {
        RtlRunStats& x = r.rtl.emplace();
        x.adc_bits = cfg.adc.bits;
        x.conversions = rtl_adc->conversions();
        x.adc_cycles = rtl_adc->cycles() - adc_reset_cycles;
        x.pe_outputs = platform.pe_array.counters().datapath_outputs;
        x.pe_groups = rtl_pe->groups();
        x.pe_cycles = rtl_pe->cycles();
        x.adc_seconds = rtl_adc->wall_seconds();
        x.pe_seconds = rtl_pe->wall_seconds();
        x.pe_mismatches = platform.pe_array.counters().datapath_mismatches;
        x.pe_bypassed_jobs = platform.pe_array.counters().datapath_bypassed_jobs;
        const auto& pc = platform.pe_array.counters().pe_cycles;
        x.model_pe_cycles = pc[static_cast<std::size_t>(PeMode::kSingleShift)] +
                            pc[static_cast<std::size_t>(PeMode::kDoubleShift)];
        for (const auto& t : platform.tiles) {
            x.model_conversions += t->adc.counters().conversions;
            x.adc_mismatches += t->adc.counters().converter_mismatches;
        }
        rtl_adc->close_vcd();
        rtl_pe->close_vcd();
    }
    r.images = test.count;
    r.accuracy = r.images ? static_cast<double>(r.correct) / r.images : 0.0;
    r.agreement = spec.check_reference && r.images ? static_cast<double>(r.agree) / r.images : 0.0;
    r.logits_digest = counts.digest;
    for (std::size_t l = 0; l < model.layers.size(); ++l) {
        const NetworkLayer& L = model.layers[l];
        LayerReport lr;
        lr.name = model.layer_name(l);
        lr.mapped_to = options.pe(l) ? "pe_array" : "crossbar";
        lr.macs_per_image = static_cast<double>(L.K()) * L.M() * L.vectors();
        lr.stats = layer_stats[l];
        lr.scratch_on_chip = plan.layers[l].placement.scratch_on_chip;
        lr.images_per_step = plan.layers[l].placement.images_per_step;
        if (L.swis) {
            lr.swis = swis_storage_report(model, l, {});
            lr.swis_variant = L.swis->variant == swis::Variant::kSwisC ? "swis-c" : "swis";
        }
        r.total.sim_ns += lr.stats.sim_ns;
        r.total.cycles += lr.stats.cycles;
        r.total.commands += lr.stats.commands;
        r.total.energy += lr.stats.energy;
        r.layers.push_back(lr);
    }

    // The front end's digest of its integer logits over the whole test set, when comparable.
    r.expected_path = expected_results_path(spec.model_path);
    std::ifstream ef(r.expected_path);
    if (ef && r.recalibrated.empty()) {
        try {
            const auto j = nlohmann::json::parse(ef);
            if (j.contains("logits_fnv1a64") && j.value("images", 0) == r.images)
                r.fake_quant_match = j["logits_fnv1a64"].get<std::string>() == r.logits_digest;
        } catch (const nlohmann::json::exception& e) {
            throw ModelError(r.expected_path + ": " + e.what());
        }
    }
    return r;
}

}  // namespace cimvp
