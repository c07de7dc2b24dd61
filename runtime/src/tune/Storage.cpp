// The study's SQL, written once for SQLite and PostgreSQL, and how a study's
// space and a trial's parameters read in the database: JSON a person can
// read, with a Choice's value as its text rather than its index.
#include "src/tune/Storage.h"

#include "src/Manifest.h"

#include <fmt/format.h>

#include <filesystem>
#include <signal.h>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>

namespace mlcrt::tune {
namespace {

using nlohmann::ordered_json;
using sql::Value;

// In the schema_version table; bumped when the tables change, so that open()
// refuses a database from a newer mlc and can migrate an older one.
constexpr int kSchemaVersion = 1;

double now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// ---- Cells --------------------------------------------------------------
// SQLite hands back typed cells; PostgreSQL hands back text.

double parseNumber(const std::string &text) {
  double d = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
  if (ec != std::errc() || end != text.data() + text.size())
    throw Error(fmt::format("the study storage holds '{}' where a number belongs", text));
  return d;
}

std::optional<double> real(const Value &v) {
  if (auto *d = std::get_if<double>(&v)) return *d;
  if (auto *i = std::get_if<int64_t>(&v)) return double(*i);
  if (auto *s = std::get_if<std::string>(&v)) return parseNumber(*s);
  return std::nullopt;
}

int64_t integer(const Value &v) {
  if (auto *i = std::get_if<int64_t>(&v)) return *i;
  if (auto *d = std::get_if<double>(&v)) return int64_t(std::llround(*d));
  if (auto *s = std::get_if<std::string>(&v)) return int64_t(std::llround(parseNumber(*s)));
  return 0;
}

std::string text(const Value &v) {
  if (auto *s = std::get_if<std::string>(&v)) return *s;
  if (auto *i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (auto *d = std::get_if<double>(&v)) return fmt::format("{}", *d);
  return "";
}

// SQLite turns NaN into NULL, so non-finite values go in as the words
// PostgreSQL's double precision reads; both hand them back as text.
Value cell(double d) {
  if (std::isnan(d)) return std::string("NaN");
  if (std::isinf(d)) return std::string(d > 0 ? "Infinity" : "-Infinity");
  return d;
}

Value cell(const std::optional<double> &d) { return d ? cell(*d) : Value(); }

// ---- The space and the parameters as JSON -------------------------------

const char *kindName(Dim::Kind k) {
  switch (k) {
  case Dim::Uniform: return "uniform";
  case Dim::LogUniform: return "loguniform";
  case Dim::Int: return "int";
  case Dim::Choice: return "choice";
  }
  return "uniform";
}

Dim::Kind parseKind(const std::string &name) {
  for (Dim::Kind k : {Dim::Uniform, Dim::LogUniform, Dim::Int, Dim::Choice})
    if (name == kindName(k)) return k;
  throw Error(fmt::format("the study storage holds a dimension of unknown kind '{}'", name));
}

std::string spaceJson(const Space &space) {
  ordered_json dims = ordered_json::array();
  for (const Dim &d : space.dims) {
    ordered_json j = {{"path", d.path}, {"kind", kindName(d.kind)}};
    if (d.kind == Dim::Choice) {
      j["choices"] = d.choices;
    } else {
      j["low"] = d.low;
      j["high"] = d.high;
    }
    if (d.kind == Dim::Int) {
      j["step"] = d.step;
      j["log"] = d.log;
    }
    if (d.structural) j["structural"] = true;
    if (d.parent >= 0) {
      j["parent"] = d.parent;
      j["when"] = d.when;
    }
    dims.push_back(std::move(j));
  }
  return dims.dump();
}

Space parseSpace(const std::string &text) {
  Space space;
  try {
    for (const auto &j : ordered_json::parse(text)) {
      Dim d;
      d.path = j.at("path").get<std::string>();
      d.kind = parseKind(j.at("kind").get<std::string>());
      d.low = j.value("low", 0.0);
      d.high = j.value("high", 0.0);
      d.step = j.value("step", 1.0);
      d.log = j.value("log", false);
      d.choices = j.value("choices", std::vector<std::string>{});
      d.structural = j.value("structural", false);
      d.parent = j.value("parent", -1);
      d.when = j.value("when", std::vector<std::string>{});
      space.dims.push_back(std::move(d));
    }
  } catch (const ordered_json::exception &e) {
    throw Error(fmt::format("the study storage holds a search space that does not read: {}", e.what()));
  }
  return space;
}

// `where` names the trial in errors: `study 'x' in sqlite:a.db: trial 3`.
std::string paramsJson(const Space &space, const Params &params, const std::string &where) {
  if (params.size() != space.dims.size())
    throw Error(fmt::format("{}: {} parameters for a space of {}", where, params.size(), space.dims.size()));
  ordered_json j = ordered_json::object();
  for (size_t i = 0; i < params.size(); ++i) {
    if (!params[i]) continue;
    const Dim &d = space.dims[i];
    double v = *params[i];
    if (d.kind == Dim::Choice) {
      if (!(v >= 0 && v < double(d.choices.size())))
        throw Error(fmt::format("{}: {} has no choice number {}", where, d.path, v));
      j[d.path] = d.choices[size_t(v)];
    } else if (d.kind == Dim::Int) {
      j[d.path] = int64_t(std::llround(v));
    } else {
      j[d.path] = v;
    }
  }
  return j.dump();
}

std::string listed(const std::vector<std::string> &choices) {
  std::string out;
  for (const auto &c : choices) out += (out.empty() ? "" : ", ") + c;
  return out;
}

double paramValue(const Dim &d, const ordered_json &v, const std::string &where) {
  if (d.kind != Dim::Choice) {
    if (!v.is_number()) throw Error(fmt::format("{}: {} = {} is not a number", where, d.path, v.dump()));
    return v.get<double>();
  }
  for (size_t c = 0; c < d.choices.size(); ++c)
    if (v.is_string() && v.get<std::string>() == d.choices[c]) return double(c);
  throw Error(fmt::format("{}: {} = {} is not one of its choices ({})", where, d.path, v.dump(), listed(d.choices)));
}

Params parseParams(const Space &space, const std::string &text, const std::string &where) {
  ordered_json j;
  try {
    j = ordered_json::parse(text);
  } catch (const ordered_json::exception &) {
    j = nullptr;
  }
  if (!j.is_object()) throw Error(fmt::format("{}: its parameters {} are not a JSON object", where, text));
  Params params(space.dims.size());
  size_t found = 0;
  for (size_t i = 0; i < space.dims.size(); ++i) {
    auto it = j.find(space.dims[i].path);
    if (it == j.end()) continue;
    params[i] = paramValue(space.dims[i], *it, where);
    ++found;
  }
  if (found != j.size()) {
    for (const auto &[path, v] : j.items()) {
      bool known = false;
      for (const Dim &d : space.dims) known = known || d.path == path;
      if (!known) throw Error(fmt::format("{}: {} is not a parameter of the study's space", where, path));
    }
  }
  return params;
}

// ---- Workers ------------------------------------------------------------

// A worker is `host:pid`; only a process on this host can be looked for.
bool processGone(const std::string &worker, const std::string &host) {
  size_t colon = worker.rfind(':');
  if (colon == std::string::npos || worker.substr(0, colon) != host) return false;
  long pid = 0;
  const char *first = worker.data() + colon + 1, *last = worker.data() + worker.size();
  auto [end, ec] = std::from_chars(first, last, pid);
  if (ec != std::errc() || end != last || pid <= 0) return false;
  return ::kill(pid_t(pid), 0) != 0 && errno == ESRCH;
}

TrialState parseState(const std::string &name) {
  for (TrialState s : {TrialState::Waiting, TrialState::Running, TrialState::Complete, TrialState::Pruned,
                       TrialState::Failed})
    if (name == stateName(s)) return s;
  throw Error(fmt::format("the study storage holds a trial in unknown state '{}'", name));
}

// ---- The storage --------------------------------------------------------

// Rolls back unless committed, so an exception leaves the database as it was.
class Transaction {
public:
  Transaction(sql::Connection &db, bool write) : db_(db) { db_.begin(write); }
  Transaction(Transaction &&other) noexcept : db_(other.db_), done_(other.done_) { other.done_ = true; }
  Transaction &operator=(Transaction &&) = delete;
  ~Transaction() {
    if (done_) return;
    try {
      db_.exec("ROLLBACK");
    } catch (const std::exception &) {
      // The connection is gone or the database already rolled back.
    }
  }
  void commit() {
    db_.exec("COMMIT");
    done_ = true;
  }

private:
  sql::Connection &db_;
  bool done_ = false;
};

class SqlStorage final : public Storage {
public:
  explicit SqlStorage(std::unique_ptr<sql::Connection> db) : db_(std::move(db)) {}

  bool open(const StudyInfo &info, bool create) override;
  Study snapshot() override;
  std::optional<Claim> claim(int target, const std::string &worker) override;
  void setParams(int number, const Params &params) override;
  void setRun(int number, const std::string &run, const std::string &log) override;
  void report(int number, int64_t budget, double value) override;
  void finish(int number, TrialState state, std::optional<double> value, const std::string &error) override;
  void requeue(int number, const std::string &error) override;
  void heartbeat(const std::string &worker) override;
  std::vector<int> recoverOrphans(const std::string &host, double staleSeconds) override;
  std::string describe() const override { return db_->describe(); }

private:
  void createSchema();
  std::string where() const { return fmt::format("study '{}' in {}", name_, describe()); }
  std::string where(int number) const { return fmt::format("{}: trial {}", where(), number); }
  // A write transaction holding the study's row, which serialises the
  // workers of a study on a database server.
  Transaction writing();
  // Updates trial `number`; an Error when there is no such trial.
  void update(int number, const std::string &set, std::vector<Value> args);
  void setWaiting(int number, const std::string &error);
  Trial readTrial(const sql::Row &r, const Space &space) const;

  std::unique_ptr<sql::Connection> db_;
  int64_t study_ = -1;
  std::string name_;
  Space space_;
};

// Types both databases read alike: BIGINT and DOUBLE PRECISION are SQLite's
// INTEGER and REAL affinities, and PostgreSQL's REAL would be 4 bytes.
// SQLite keeps a non-finite objective value as text ('NaN', 'Infinity') in
// a REAL column, since it would store NaN as NULL.
void SqlStorage::createSchema() {
  Transaction t(*db_, true);
  db_->lockSchema();
  db_->exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
  db_->exec(fmt::format(R"(CREATE TABLE IF NOT EXISTS studies (
    id {},
    name TEXT NOT NULL UNIQUE,
    objective TEXT NOT NULL,
    direction TEXT NOT NULL,
    space_json TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    created DOUBLE PRECISION NOT NULL))",
                        db_->generatedKey()));
  db_->exec(R"(CREATE TABLE IF NOT EXISTS trials (
    study_id BIGINT NOT NULL REFERENCES studies (id),
    number INTEGER NOT NULL,
    state TEXT NOT NULL,
    params_json TEXT,
    value DOUBLE PRECISION,
    budget BIGINT NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT '',
    log TEXT NOT NULL DEFAULT '',
    run TEXT NOT NULL DEFAULT '',
    worker TEXT NOT NULL DEFAULT '',
    started DOUBLE PRECISION NOT NULL DEFAULT 0,
    finished DOUBLE PRECISION NOT NULL DEFAULT 0,
    heartbeat DOUBLE PRECISION NOT NULL DEFAULT 0,
    PRIMARY KEY (study_id, number)))");
  db_->exec(R"(CREATE TABLE IF NOT EXISTS intermediate (
    study_id BIGINT NOT NULL,
    number INTEGER NOT NULL,
    budget BIGINT NOT NULL,
    value DOUBLE PRECISION,
    PRIMARY KEY (study_id, number, budget),
    FOREIGN KEY (study_id, number) REFERENCES trials (study_id, number)))");
  db_->exec("INSERT INTO schema_version (version) SELECT $1 WHERE NOT EXISTS (SELECT 1 FROM schema_version)",
            {int64_t(kSchemaVersion)});
  auto version = db_->exec("SELECT MAX(version) FROM schema_version");
  int64_t v = version.rows.empty() ? 0 : integer(version.rows[0][0]);
  if (v > kSchemaVersion)
    throw Error(fmt::format("{}: written by a newer mlc (schema version {}; this one knows {})", describe(), v,
                            kSchemaVersion));
  t.commit();
}

bool SqlStorage::open(const StudyInfo &info, bool create) {
  // Reading a study creates nothing, not even the tables (a mistyped
  // PostgreSQL URL must not get them).
  if (create) createSchema();
  Transaction t(*db_, true);
  int64_t inserted = 0;
  if (create)
    inserted = db_->exec("INSERT INTO studies (name, objective, direction, space_json, fingerprint, created) "
                         "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING",
                         {info.name, info.objective, std::string(info.minimize ? "minimize" : "maximize"),
                          spaceJson(info.space), info.fingerprint, now()})
                   .changed;
  sql::Result found;
  try {
    found = db_->exec("SELECT id, fingerprint, space_json FROM studies WHERE name = $1", {info.name});
  } catch (const Error &) {
    if (create) throw;  // without the tables, there is no study to read
  }
  if (found.rows.empty() && !create)
    throw Error(fmt::format("no study '{}' in {} (run `tune` first)", info.name, describe()));
  if (found.rows.empty()) throw Error(fmt::format("{}: study '{}' was not created", describe(), info.name));
  const sql::Row &row = found.rows[0];
  if (text(row[1]) != info.fingerprint)
    throw Error(fmt::format("study '{}' in {} was started with another search space, objective, search or pruner "
                            "(fingerprint {}, now {}); name another study or storage to start afresh",
                            info.name, describe(), text(row[1]), info.fingerprint));
  Space space = parseSpace(text(row[2]));
  t.commit();
  study_ = integer(row[0]);
  name_ = info.name;
  space_ = std::move(space);
  return inserted == 0;
}

Transaction SqlStorage::writing() {
  if (study_ < 0) throw Error(fmt::format("{}: no study is open", describe()));
  Transaction t(*db_, true);
  db_->exec(std::string("SELECT id FROM studies WHERE id = $1") + db_->forUpdate(), {study_});
  return t;
}

void SqlStorage::update(int number, const std::string &set, std::vector<Value> args) {
  Transaction t = writing();
  args.insert(args.begin(), {study_, int64_t(number)});
  auto r = db_->exec("UPDATE trials SET " + set + " WHERE study_id = $1 AND number = $2", args);
  if (r.changed != 1) throw Error(fmt::format("{}: there is no such trial", where(number)));
  t.commit();
}

std::optional<Claim> SqlStorage::claim(int target, const std::string &worker) {
  Transaction t = writing();
  double time = now();
  std::optional<Claim> c;
  auto waiting = db_->exec(
      "SELECT number, params_json, attempts FROM trials WHERE study_id = $1 AND state = 'waiting' "
      "ORDER BY number LIMIT 1",
      {study_});
  if (!waiting.rows.empty()) {
    const sql::Row &r = waiting.rows[0];
    c = Claim{int(integer(r[0])), std::holds_alternative<std::monostate>(r[1]), {}, int(integer(r[2])) + 1};
    if (!c->fresh) c->params = parseParams(space_, text(r[1]), where(c->number));
    db_->exec(
        "UPDATE trials SET state = 'running', worker = $3, started = $4, heartbeat = $4, finished = 0, "
        "attempts = attempts + 1 WHERE study_id = $1 AND number = $2",
        {study_, int64_t(c->number), worker, time});
  } else {
    auto count = db_->exec("SELECT COUNT(*), COALESCE(MAX(number) + 1, 0) FROM trials WHERE study_id = $1", {study_});
    if (integer(count.rows[0][0]) < target) {
      c = Claim{int(integer(count.rows[0][1])), true, {}, 1};
      db_->exec(
          "INSERT INTO trials (study_id, number, state, attempts, worker, started, heartbeat) "
          "VALUES ($1, $2, 'running', 1, $3, $4, $4)",
          {study_, int64_t(c->number), worker, time});
    }
  }
  t.commit();
  return c;
}

void SqlStorage::setParams(int number, const Params &params) {
  update(number, "params_json = $3", {paramsJson(space_, params, where(number))});
}

void SqlStorage::setRun(int number, const std::string &run, const std::string &log) {
  update(number, "run = $3, log = $4", {run, log});
}

void SqlStorage::report(int number, int64_t budget, double value) {
  Transaction t = writing();
  auto r = db_->exec(
      "UPDATE trials SET budget = CASE WHEN budget < $3 THEN $3 ELSE budget END "
      "WHERE study_id = $1 AND number = $2",
      {study_, int64_t(number), budget});
  if (r.changed != 1) throw Error(fmt::format("{}: there is no such trial", where(number)));
  db_->exec(
      "INSERT INTO intermediate (study_id, number, budget, value) VALUES ($1, $2, $3, $4) "
      "ON CONFLICT (study_id, number, budget) DO UPDATE SET value = excluded.value",
      {study_, int64_t(number), budget, cell(value)});
  t.commit();
}

void SqlStorage::finish(int number, TrialState state, std::optional<double> value, const std::string &error) {
  if (state != TrialState::Complete && state != TrialState::Pruned && state != TrialState::Failed)
    throw Error(fmt::format("{}: a trial cannot finish {}", where(number), stateName(state)));
  update(number, "state = $3, value = $4, error = $5, finished = $6",
         {std::string(stateName(state)), cell(value), error, now()});
}

void SqlStorage::setWaiting(int number, const std::string &error) {
  db_->exec("UPDATE trials SET state = 'waiting', error = $3, worker = '', finished = 0 "
            "WHERE study_id = $1 AND number = $2",
            {study_, int64_t(number), error});
}

void SqlStorage::requeue(int number, const std::string &error) {
  Transaction t = writing();
  auto r = db_->exec("SELECT number FROM trials WHERE study_id = $1 AND number = $2", {study_, int64_t(number)});
  if (r.rows.empty()) throw Error(fmt::format("{}: there is no such trial", where(number)));
  setWaiting(number, error);
  t.commit();
}

void SqlStorage::heartbeat(const std::string &worker) {
  Transaction t = writing();
  db_->exec("UPDATE trials SET heartbeat = $3 WHERE study_id = $1 AND state = 'running' AND worker = $2",
            {study_, worker, now()});
  t.commit();
}

// staleSeconds <= 0 (or infinite) looks at processes only: no heartbeat
// deadline.
std::vector<int> SqlStorage::recoverOrphans(const std::string &host, double staleSeconds) {
  Transaction t = writing();
  double time = now();
  auto running = db_->exec(
      "SELECT number, worker, heartbeat FROM trials WHERE study_id = $1 AND state = 'running' ORDER BY number",
      {study_});
  std::vector<int> numbers;
  for (const sql::Row &r : running.rows) {
    std::string worker = text(r[1]);
    bool stale = staleSeconds > 0 && std::isfinite(staleSeconds) && time - real(r[2]).value_or(0) > staleSeconds;
    if (!stale && !processGone(worker, host)) continue;
    int number = int(integer(r[0]));
    setWaiting(number, fmt::format("restarted: its worker {} stopped", worker));
    numbers.push_back(number);
  }
  t.commit();
  return numbers;
}

Trial SqlStorage::readTrial(const sql::Row &r, const Space &space) const {
  Trial t;
  t.number = int(integer(r[0]));
  t.state = parseState(text(r[1]));
  if (!std::holds_alternative<std::monostate>(r[2])) t.params = parseParams(space, text(r[2]), where(t.number));
  t.value = real(r[3]);
  t.budget = integer(r[4]);
  t.attempts = int(integer(r[5]));
  t.error = text(r[6]);
  t.log = text(r[7]);
  t.run = text(r[8]);
  t.worker = text(r[9]);
  t.started = real(r[10]).value_or(0);
  t.finished = real(r[11]).value_or(0);
  t.heartbeat = real(r[12]).value_or(0);
  return t;
}

Study SqlStorage::snapshot() {
  if (study_ < 0) throw Error(fmt::format("{}: no study is open", describe()));
  Transaction t(*db_, false);
  auto study = db_->exec("SELECT name, objective, direction FROM studies WHERE id = $1", {study_});
  auto trials = db_->exec(
      "SELECT number, state, params_json, value, budget, attempts, error, log, run, worker, started, finished, "
      "heartbeat FROM trials WHERE study_id = $1 ORDER BY number",
      {study_});
  auto values = db_->exec("SELECT number, budget, value FROM intermediate WHERE study_id = $1 ORDER BY number, budget",
                          {study_});
  t.commit();
  if (study.rows.empty()) throw Error(fmt::format("{}: the study is gone", where()));
  Study s;
  s.name = text(study.rows[0][0]);
  s.objective = text(study.rows[0][1]);
  s.minimize = text(study.rows[0][2]) != "maximize";
  s.space = space_;  // read at open(), and the fingerprint pins it
  for (const sql::Row &r : trials.rows) {
    s.trials.push_back(readTrial(r, s.space));
    if (s.trials.back().number != int(s.trials.size()) - 1)
      throw Error(fmt::format("{}: trial {} is missing", where(), s.trials.size() - 1));
  }
  for (const sql::Row &r : values.rows) {
    int64_t n = integer(r[0]);
    if (n >= 0 && n < int64_t(s.trials.size()))
      s.trials[size_t(n)].intermediate[integer(r[1])] = real(r[2]).value_or(std::nan(""));
  }
  return s;
}

std::string_view scheme(const std::string &url) {
  size_t colon = url.find("://");
  return colon == std::string::npos ? std::string_view() : std::string_view(url).substr(0, colon);
}

}  // namespace

std::unique_ptr<Storage> openStorage(const std::string &url, bool create) {
  if (url.empty()) throw Error("the study storage is empty: name a SQLite file or a postgresql:// url");
  std::string_view s = scheme(url);
  if (s == "postgresql" || s == "postgres") return std::make_unique<SqlStorage>(sql::connectPostgres(url));
  std::string path = url;
  if (url.rfind("sqlite:", 0) == 0) {
    // `sqlite:///abs.db` as other tools write it, and `sqlite:rel.db`.
    path = url.substr(s == "sqlite" ? 9 : 7);
  } else if (!s.empty()) {
    throw Error(fmt::format("study storage {}: unknown scheme '{}' (sqlite: or postgresql://)", url, s));
  }
  if (path.empty()) throw Error(fmt::format("study storage {}: no file named", url));
  std::error_code ec;
  if (!create && !std::filesystem::exists(path, ec))
    throw Error(fmt::format("no study storage at {}: `{}` does not exist (run `tune` first)", url, path));
  return std::make_unique<SqlStorage>(sql::connectSqlite(path));
}

}  // namespace mlcrt::tune
