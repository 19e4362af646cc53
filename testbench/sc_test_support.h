// Test support for SystemC tests: SystemC errors and warnings become test
// failures unless the test said it expects them (warnings counted, errors
// captured), and a guard skips a test when the process already elaborated.
#pragma once

#include <algorithm>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <systemc>

namespace cimvp::test {

// Message types whose warnings the running test provokes on purpose (ExpectScWarnings).
inline std::vector<std::string>& expected_sc_warnings() {
    static std::vector<std::string> types;
    return types;
}

// Per message type a CaptureScErrors has in scope: the texts of the errors reported under it.
inline std::vector<std::pair<std::string, std::vector<std::string>*>>& captured_sc_errors() {
    static std::vector<std::pair<std::string, std::vector<std::string>*>> types;
    return types;
}

inline void sc_report_to_gtest(const sc_core::sc_report& rep, const sc_core::sc_actions& actions) {
    if (rep.get_severity() == sc_core::SC_ERROR)
        for (auto& [type, texts] : captured_sc_errors())
            if (type == rep.get_msg_type()) {
                texts->push_back(rep.get_msg());
                if (actions & sc_core::SC_THROW) throw rep;
                return;
            }
    const auto& expected = expected_sc_warnings();
    const bool expected_warning = rep.get_severity() == sc_core::SC_WARNING &&
                                  std::find(expected.begin(), expected.end(), rep.get_msg_type()) != expected.end();
    if (rep.get_severity() >= sc_core::SC_WARNING && !expected_warning) {
        ADD_FAILURE() << "SystemC " << (rep.get_severity() == sc_core::SC_WARNING ? "warning" : "error") << " ["
                      << rep.get_msg_type() << "]: " << rep.get_msg();
    }
    if (actions & sc_core::SC_THROW) throw rep;  // keep SystemC's own error flow
}

inline void install_sc_report_handler() {
    sc_core::sc_report_handler::set_handler(sc_report_to_gtest);
    // Deprecation notes from the library itself are not our failures.
    sc_core::sc_report_handler::set_actions(sc_core::SC_ID_IEEE_1666_DEPRECATION_, sc_core::SC_DO_NOTHING);
}

// While in scope, warnings of the given message types (a module's kReportId) are no test
// failures; leaving the scope, each type must have been reported exactly as often as given
// (counted by sc_report_handler::get_count): one warning per error response or failed job.
class ExpectScWarnings {
public:
    explicit ExpectScWarnings(std::vector<std::pair<std::string, int>> expected) : expected_(std::move(expected)) {
        for (const auto& [type, n] : expected_) {
            start_.push_back(warnings(type));
            expected_sc_warnings().push_back(type);
        }
    }
    ExpectScWarnings(const ExpectScWarnings&) = delete;
    ExpectScWarnings& operator=(const ExpectScWarnings&) = delete;
    ~ExpectScWarnings() {
        auto& e = expected_sc_warnings();
        for (std::size_t i = 0; i < expected_.size(); ++i) {
            const std::string& type = expected_[i].first;
            EXPECT_EQ(warnings(type) - start_[i], expected_[i].second) << "warnings " << type;
            e.erase(std::find(e.begin(), e.end(), type));
        }
    }

private:
    static int warnings(const std::string& type) {
        return sc_core::sc_report_handler::get_count(type.c_str(), sc_core::SC_WARNING);
    }
    std::vector<std::pair<std::string, int>> expected_;
    std::vector<int> start_;
};

// While in scope, errors of one message type are captured instead of failing the test: the test
// checks their texts, in order. They do not throw either, unless keep_actions leaves SystemC's
// default action for an error (throw the report) in place.
class CaptureScErrors {
public:
    explicit CaptureScErrors(std::string type, bool keep_actions = false)
        : type_(std::move(type)), restore_(!keep_actions) {
        if (restore_)
            saved_actions_ = sc_core::sc_report_handler::set_actions(type_.c_str(), sc_core::SC_ERROR, sc_core::SC_LOG);
        captured_sc_errors().emplace_back(type_, &texts_);
    }
    CaptureScErrors(const CaptureScErrors&) = delete;
    CaptureScErrors& operator=(const CaptureScErrors&) = delete;
    ~CaptureScErrors() {
        auto& c = captured_sc_errors();
        c.erase(std::find_if(c.begin(), c.end(), [&](const auto& e) { return e.second == &texts_; }));
        if (restore_) sc_core::sc_report_handler::set_actions(type_.c_str(), sc_core::SC_ERROR, saved_actions_);
    }
    const std::vector<std::string>& texts() const { return texts_; }
    // The captured texts that contain every one of `parts`.
    std::vector<std::string> matching(std::initializer_list<std::string> parts) const {
        std::vector<std::string> out;
        for (const std::string& t : texts_) {
            const auto in_t = [&](const std::string& p) { return t.find(p) != std::string::npos; };
            if (std::all_of(parts.begin(), parts.end(), in_t)) out.push_back(t);
        }
        return out;
    }
    void clear() { texts_.clear(); }

private:
    std::string type_;
    bool restore_;
    sc_core::sc_actions saved_actions_ = sc_core::SC_UNSPECIFIED;
    std::vector<std::string> texts_;
};

}  // namespace cimvp::test

// Every SystemC TEST starts with this: one elaboration per process.
#define CIMVP_REQUIRE_FRESH_SYSTEMC()                                              \
    do {                                                                           \
        if (sc_core::sc_get_status() != sc_core::SC_ELABORATION)                   \
            GTEST_SKIP() << "SystemC already elaborated in this process; ctest runs " \
                            "each test in its own process";                        \
    } while (0)
