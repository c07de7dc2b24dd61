// Run notifications: `notify = webhook(...) on [...]` and `command(...)` in
// an experiment. A notification is a courtesy to the user, so nothing here
// may fail or stall the run beyond its timeouts: every problem is one
// warning line and the run goes on.
#pragma once

#include "src/Manifest.h"

#include <chrono>
#include <iostream>
#include <string>
#include <vector>

namespace mlcrt {

/// Sends `summaryJson` (a JSON object text: run, project, event, status, reason, best metric, duration, checkpoint
/// path) when `event` is one of spec.events. Never throws and never fails the run: every problem becomes one line
/// `warning: notification failed: <why>` on `log` (stderr by default). Returns true when delivered.
///
/// webhook: an HTTP(S) POST of the summary as `application/json`; anything but a 2xx answer is a failure. Warnings
/// show the URL as scheme://host[:port]/path only, never its credentials or query.
/// command: `/bin/sh -c <command>` in its own process group, the summary on its stdin, MLC_EVENT, MLC_RUN and
/// MLC_STATUS in its environment and its stdout sent to stderr (stdout carries the run's metrics line). It is
/// killed with its process group after `commandTimeout`; a non-zero exit status is a failure.
bool notify(const NotifySpec &spec, const std::string &event, const std::string &summaryJson,
            std::ostream &log = std::cerr, std::chrono::milliseconds commandTimeout = std::chrono::seconds(30));

}  // namespace mlcrt
