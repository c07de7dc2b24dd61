// Where a study lives: SQLite (one file, the default) or PostgreSQL (a
// study shared by workers on several machines). Every change is one
// transaction, so a process killed at any moment leaves a consistent study,
// and claiming a trial is atomic across workers.
#pragma once

#include "src/tune/Study.h"

#include <memory>
#include <variant>

namespace mlcrt::tune {

/// What identifies a study besides its name: a study of the same name with
/// another fingerprint (another space, objective, search or pruner) is not
/// continued.
struct StudyInfo {
  std::string name, objective;
  bool minimize = true;
  Space space;
  std::string fingerprint;
};

/// A trial handed to a worker to run.
struct Claim {
  int number = 0;
  bool fresh = true;  // newly created: its parameters are to be sampled and set
  Params params;      // not fresh: the parameters it ran with before
  int attempts = 0;   // starts so far, this one included
};

class Storage {
public:
  virtual ~Storage() = default;

  /// Creates the study or opens the existing one; an existing study with
  /// another fingerprint is an Error naming the study and the storage.
  /// Without `create`, a study that does not exist is an Error too (reading
  /// a study never creates one). Returns true when it already existed.
  virtual bool open(const StudyInfo &info, bool create = true) = 0;

  /// The study with every trial and its intermediate values, by number.
  virtual Study snapshot() = 0;

  /// Atomically picks work for `worker` (`host:pid`): the waiting trial with
  /// the lowest number, else a new trial numbered after the last while
  /// fewer than `target` trials exist, else nullopt. The trial is running
  /// from here on, with its heartbeat now and its attempts counted.
  virtual std::optional<Claim> claim(int target, const std::string &worker) = 0;

  virtual void setParams(int number, const Params &params) = 0;
  /// The run name and log file of a trial, for the table and the report.
  virtual void setRun(int number, const std::string &run, const std::string &log) = 0;

  /// The objective at `budget`; a second report at the same budget (a
  /// restarted trial) replaces the first. The trial's budget becomes the
  /// largest reported.
  virtual void report(int number, int64_t budget, double value) = 0;

  /// Ends a trial: Complete (with its value), Pruned (value: the last
  /// reported) or Failed (with the error).
  virtual void finish(int number, TrialState state, std::optional<double> value, const std::string &error) = 0;

  /// Back to waiting (a retry, or a trial whose worker died): the same
  /// number and parameters run again. Its intermediate values are kept.
  virtual void requeue(int number, const std::string &error) = 0;

  /// The running trials of `worker` are alive now.
  virtual void heartbeat(const std::string &worker) = 0;

  /// Running trials whose worker is gone go back to waiting: those of a
  /// process on `host` that no longer exists, and any without a heartbeat
  /// for `staleSeconds`. Returns their numbers.
  virtual std::vector<int> recoverOrphans(const std::string &host, double staleSeconds) = 0;

  /// `sqlite:/path/study.db`, a bare path (SQLite), or
  /// `postgresql://user@host:port/db` (also `postgres://`).
  virtual std::string describe() const = 0;
};

/// Opens the storage at `url` (see describe()); SQLite creates the file and
/// its directory. Throws Error (src/Manifest.h) naming the url on failure.
/// The storage belongs to the process that opened it: a forked child opens
/// its own (and must neither use nor destroy its parent's).
/// Without `create`, a SQLite file that does not exist is an Error.
std::unique_ptr<Storage> openStorage(const std::string &url, bool create = true);

/// For the backends only: Storage.cpp writes the study's tables and queries
/// once, and a connection runs them on SQLite or PostgreSQL.
namespace sql {

using Value = std::variant<std::monostate, int64_t, double, std::string>;  // monostate: NULL
using Row = std::vector<Value>;
struct Result {
  std::vector<Row> rows;
  int64_t changed = 0;  // rows an INSERT, UPDATE or DELETE changed
};

class Connection {
public:
  virtual ~Connection() = default;
  /// One statement; its parameters are $1, $2, ... Errors name describe().
  virtual Result exec(const std::string &sql, const std::vector<Value> &args = {}) = 0;
  /// BEGIN; a write transaction waits for the other writers of the database
  /// where the database locks whole files (a server locks rows: forUpdate).
  virtual void begin(bool write) = 0;
  /// The column type of an integer primary key the database numbers itself.
  virtual const char *generatedKey() const = 0;
  /// Inside a write transaction, before the tables are created: serialises
  /// creating them where CREATE TABLE IF NOT EXISTS alone does not.
  virtual void lockSchema() {}
  /// The suffix of a SELECT that locks its rows until the transaction ends.
  virtual const char *forUpdate() const = 0;
  virtual std::string describe() const = 0;
};

std::unique_ptr<Connection> connectSqlite(const std::string &path);
std::unique_ptr<Connection> connectPostgres(const std::string &url);

}  // namespace sql

}  // namespace mlcrt::tune
