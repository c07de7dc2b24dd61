// A study on a PostgreSQL server, shared by workers on several machines.
// Writers lock the study's row (SELECT ... FOR UPDATE), so claims queue per
// study and no two workers get the same new number or the same waiting
// trial. Values travel as text; the SQL only ever holds $n placeholders.
#include "src/tune/Storage.h"

#include "src/Manifest.h"

#include <fmt/format.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <cmath>

namespace mlcrt::tune::sql {
namespace {

// pg_type's fixed oids, so the server need not guess what $n is.
constexpr Oid kInt8 = 20, kFloat8 = 701;
// Any constant of our own: the key of the lock that serialises creating the
// tables, which CREATE TABLE IF NOT EXISTS alone does not.
constexpr long long kSchemaLock = 0x6d6c632d74756e65;  // "mlc-tune"

/// `url` with its password shown as ***, in the user info or a parameter.
std::string masked(const std::string &url) {
  std::string out = url;
  size_t start = out.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  size_t end = out.find_first_of("/?", start);
  if (end == std::string::npos) end = out.size();
  size_t at = out.rfind('@', end);
  if (at != std::string::npos && at >= start) {
    size_t colon = out.find(':', start);
    if (colon < at) out.replace(colon + 1, at - colon - 1, "***");
  }
  for (size_t p = out.find("password="); p != std::string::npos; p = out.find("password=", p + 1)) {
    size_t from = p + 9, to = out.find('&', from);
    out.replace(from, (to == std::string::npos ? out.size() : to) - from, "***");
  }
  return out;
}

// libpq's messages end in a newline and continue on tab-indented lines.
std::string oneLine(const char *message) {
  std::string out;
  bool space = false;
  for (const char *c = message ? message : ""; *c; ++c) {
    if (*c == '\n' || *c == '\t' || *c == '\r') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += *c;
  }
  return out;
}

std::string argText(const Value &v) {
  if (auto *s = std::get_if<std::string>(&v)) return *s;
  if (auto *i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  double d = std::get<double>(v);
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  return fmt::format("{}", d);  // the shortest text that reads back as d
}

Oid argType(const Value &v) {
  if (std::holds_alternative<int64_t>(v)) return kInt8;
  if (std::holds_alternative<double>(v)) return kFloat8;
  return 0;  // text and NULL: the server infers the column's type
}

class PostgresConnection final : public Connection {
public:
  explicit PostgresConnection(const std::string &url);
  ~PostgresConnection() override;
  PostgresConnection(const PostgresConnection &) = delete;
  PostgresConnection &operator=(const PostgresConnection &) = delete;

  Result exec(const std::string &sql, const std::vector<Value> &args) override;
  void begin(bool write) override;
  void createSchema(int version) override;
  const char *forUpdate() const override { return " FOR UPDATE"; }
  std::string describe() const override { return url_; }

private:
  [[noreturn]] void fail(const char *message) const;
  void setup();
  void checkOwner() const;

  std::string url_;  // masked
  PGconn *conn_ = nullptr;
  pid_t owner_ = ::getpid();  // a forked child must not touch its parent's connection
};

void PostgresConnection::fail(const char *message) const {
  throw Error(fmt::format("{}: {}", url_, oneLine(message)));
}

PostgresConnection::PostgresConnection(const std::string &url) : url_(masked(url)) {
  // The url comes last so that its own settings win over these defaults.
  const char *keys[] = {"connect_timeout", "fallback_application_name", "dbname", nullptr};
  const char *values[] = {"10", "mlc tune", url.c_str(), nullptr};
  conn_ = PQconnectdbParams(keys, values, 1);
  if (!conn_) fail("out of memory");
  if (PQstatus(conn_) != CONNECTION_OK) {
    std::string why = oneLine(PQerrorMessage(conn_));
    PQfinish(conn_);
    conn_ = nullptr;
    fail(why.c_str());
  }
  try {
    setup();
  } catch (const Error &) {
    PQfinish(conn_);  // a throwing constructor runs no destructor
    throw;
  }
}

PostgresConnection::~PostgresConnection() {
  // PQfinish in a forked child would end the parent's session too.
  if (conn_ && ::getpid() == owner_) PQfinish(conn_);
}

void PostgresConnection::setup() {
  // CREATE TABLE IF NOT EXISTS notices would go to stderr.
  PQsetNoticeProcessor(conn_, [](void *, const char *) {}, nullptr);
  // A server configured for fewer digits would round the doubles it sends.
  exec("SET extra_float_digits = 3", {});
}

void PostgresConnection::checkOwner() const {
  if (::getpid() != owner_) fail("a connection opened by another process (a forked child opens its own)");
}

Result PostgresConnection::exec(const std::string &sql, const std::vector<Value> &args) {
  checkOwner();
  std::vector<std::string> texts;
  std::vector<const char *> values;
  std::vector<Oid> types;
  texts.reserve(args.size());
  for (const Value &v : args) {
    bool null = std::holds_alternative<std::monostate>(v);
    texts.push_back(null ? std::string() : argText(v));
    values.push_back(null ? nullptr : texts.back().c_str());
    types.push_back(argType(v));
  }
  std::unique_ptr<PGresult, void (*)(PGresult *)> res(
      PQexecParams(conn_, sql.c_str(), int(args.size()), types.data(), values.data(), nullptr, nullptr, 0), PQclear);
  if (!res) fail(PQerrorMessage(conn_));
  ExecStatusType status = PQresultStatus(res.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) fail(PQresultErrorMessage(res.get()));
  Result result;
  for (int r = 0, rows = PQntuples(res.get()), cols = PQnfields(res.get()); r < rows; ++r) {
    Row row;
    for (int c = 0; c < cols; ++c) {
      if (PQgetisnull(res.get(), r, c))
        row.emplace_back(std::monostate());
      else
        row.emplace_back(std::string(PQgetvalue(res.get(), r, c), size_t(PQgetlength(res.get(), r, c))));
    }
    result.rows.push_back(std::move(row));
  }
  const char *changed = PQcmdTuples(res.get());
  result.changed = changed && *changed ? std::stoll(changed) : 0;
  return result;
}

// A worker runs for hours between calls: a server restarted meanwhile, or
// a connection it dropped, costs a reconnect at the start of a transaction,
// where nothing can be lost.
void PostgresConnection::begin(bool write) {
  // Reads see one consistent moment; writes lock the study's row instead.
  const char *sql = write ? "BEGIN" : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
  checkOwner();  // resetting a parent's connection would end its session
  if (PQstatus(conn_) == CONNECTION_OK) {
    try {
      exec(sql, {});
      return;
    } catch (const Error &) {
      if (PQstatus(conn_) == CONNECTION_OK) throw;
    }
  }
  PQreset(conn_);
  if (PQstatus(conn_) != CONNECTION_OK) fail(PQerrorMessage(conn_));
  setup();
  exec(sql, {});
}

void PostgresConnection::createSchema(int version) {
  exec("SELECT pg_advisory_xact_lock($1)", {int64_t(kSchemaLock)});
  exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)", {});
  exec(R"(CREATE TABLE IF NOT EXISTS studies (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    objective TEXT NOT NULL,
    direction TEXT NOT NULL,
    space_json TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    created DOUBLE PRECISION NOT NULL))",
       {});
  exec(R"(CREATE TABLE IF NOT EXISTS trials (
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
    PRIMARY KEY (study_id, number)))",
       {});
  exec(R"(CREATE TABLE IF NOT EXISTS intermediate (
    study_id BIGINT NOT NULL,
    number INTEGER NOT NULL,
    budget BIGINT NOT NULL,
    value DOUBLE PRECISION,
    PRIMARY KEY (study_id, number, budget),
    FOREIGN KEY (study_id, number) REFERENCES trials (study_id, number)))",
       {});
  exec("INSERT INTO schema_version (version) SELECT $1 WHERE NOT EXISTS (SELECT 1 FROM schema_version)",
       {int64_t(version)});
}

}  // namespace

std::unique_ptr<Connection> connectPostgres(const std::string &url) {
  return std::make_unique<PostgresConnection>(url);
}

}  // namespace mlcrt::tune::sql
