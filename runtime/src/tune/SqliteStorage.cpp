// A study in one SQLite file, shared by the worker processes of one
// machine. WAL lets readers go on while a worker writes; every write
// transaction is BEGIN IMMEDIATE, so two workers queue for the file's write
// lock up front (waiting up to the busy timeout) instead of both reading and
// then failing to upgrade.
#include "src/tune/Storage.h"

#include "src/Manifest.h"

#include <fmt/format.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <thread>

namespace mlcrt::tune::sql {
namespace {

constexpr int kBusyTimeoutMs = 10000;

// SQLite numbers parameters ?1, ?2, ...; the shared SQL writes $1, $2, ...
std::string numbered(const std::string &sql) {
  std::string out = sql;
  for (size_t i = 0; i + 1 < out.size(); ++i)
    if (out[i] == '$' && std::isdigit(static_cast<unsigned char>(out[i + 1]))) out[i] = '?';
  return out;
}

class SqliteConnection final : public Connection {
public:
  explicit SqliteConnection(std::string path);
  ~SqliteConnection() override;
  SqliteConnection(const SqliteConnection &) = delete;
  SqliteConnection &operator=(const SqliteConnection &) = delete;

  Result exec(const std::string &sql, const std::vector<Value> &args) override;
  void begin(bool write) override { exec(write ? "BEGIN IMMEDIATE" : "BEGIN", {}); }
  // A rowid: "INTEGER PRIMARY KEY" exactly, no other spelling.
  const char *generatedKey() const override { return "INTEGER PRIMARY KEY"; }
  const char *forUpdate() const override { return ""; }  // BEGIN IMMEDIATE already locked the file
  std::string describe() const override { return "sqlite:" + path_; }

private:
  [[noreturn]] void fail(const std::string &what) const;
  void useWal();
  void bind(sqlite3_stmt *stmt, const std::vector<Value> &args) const;
  Row row(sqlite3_stmt *stmt) const;

  std::string path_;
  sqlite3 *db_ = nullptr;
  pid_t owner_ = ::getpid();  // a forked child must not touch its parent's connection
};

void SqliteConnection::fail(const std::string &what) const {
  throw Error(fmt::format("{}: {}", describe(), what));
}

SqliteConnection::SqliteConnection(std::string path) : path_(std::move(path)) {
  std::filesystem::path parent = std::filesystem::path(path_).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) fail(fmt::format("cannot create the directory {}: {}", parent.string(), ec.message()));
  int rc = sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) {
    std::string why = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    fail(why);
  }
  sqlite3_busy_timeout(db_, kBusyTimeoutMs);
  try {
    useWal();
    // Every worker sharing the file runs on this machine, so a power loss
    // stops them all: NORMAL may lose the last commits then, never consistency.
    exec("PRAGMA synchronous = NORMAL", {});
  } catch (const Error &) {
    sqlite3_close_v2(db_);  // a throwing constructor runs no destructor
    throw;
  }
}

// Switching a new file to WAL takes its exclusive lock without calling the
// busy handler, so workers that open a new study together wait here.
void SqliteConnection::useWal() {
  for (int waited = 0;; waited += 10) {
    int rc = sqlite3_exec(db_, "PRAGMA journal_mode = WAL", nullptr, nullptr, nullptr);
    if (rc == SQLITE_OK) return;
    if ((rc & 0xff) != SQLITE_BUSY || waited >= kBusyTimeoutMs) fail(sqlite3_errmsg(db_));
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

SqliteConnection::~SqliteConnection() {
  if (db_ && ::getpid() == owner_) sqlite3_close_v2(db_);
}

void SqliteConnection::bind(sqlite3_stmt *stmt, const std::vector<Value> &args) const {
  for (size_t i = 0; i < args.size(); ++i) {
    int n = int(i) + 1, rc = SQLITE_OK;
    const Value &v = args[i];
    if (auto *s = std::get_if<std::string>(&v))
      rc = sqlite3_bind_text64(stmt, n, s->data(), s->size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    else if (auto *d = std::get_if<double>(&v))
      rc = sqlite3_bind_double(stmt, n, *d);
    else if (auto *k = std::get_if<int64_t>(&v))
      rc = sqlite3_bind_int64(stmt, n, *k);
    else
      rc = sqlite3_bind_null(stmt, n);
    if (rc != SQLITE_OK) fail(sqlite3_errmsg(db_));
  }
}

Row SqliteConnection::row(sqlite3_stmt *stmt) const {
  Row r;
  for (int c = 0, n = sqlite3_column_count(stmt); c < n; ++c) {
    switch (sqlite3_column_type(stmt, c)) {
    case SQLITE_INTEGER: r.emplace_back(int64_t(sqlite3_column_int64(stmt, c))); break;
    case SQLITE_FLOAT: r.emplace_back(sqlite3_column_double(stmt, c)); break;
    case SQLITE_NULL: r.emplace_back(std::monostate()); break;
    default: {
      const auto *text = reinterpret_cast<const char *>(sqlite3_column_text(stmt, c));
      r.emplace_back(std::string(text ? text : "", size_t(sqlite3_column_bytes(stmt, c))));
    }
    }
  }
  return r;
}

Result SqliteConnection::exec(const std::string &sql, const std::vector<Value> &args) {
  if (::getpid() != owner_) fail("a connection opened by another process (a forked child opens its own)");
  sqlite3_stmt *raw = nullptr;
  if (sqlite3_prepare_v2(db_, numbered(sql).c_str(), -1, &raw, nullptr) != SQLITE_OK) fail(sqlite3_errmsg(db_));
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt *)> stmt(raw, sqlite3_finalize);
  bind(stmt.get(), args);
  Result result;
  for (;;) {
    int rc = sqlite3_step(stmt.get());
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) fail(sqlite3_errmsg(db_));
    result.rows.push_back(row(stmt.get()));
  }
  result.changed = sqlite3_changes64(db_);
  return result;
}

}  // namespace

std::unique_ptr<Connection> connectSqlite(const std::string &path) {
  return std::make_unique<SqliteConnection>(path);
}

}  // namespace mlcrt::tune::sql
