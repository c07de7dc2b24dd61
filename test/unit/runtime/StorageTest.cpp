// The study storage on SQLite and, where MLC_TEST_POSTGRES_URL names a
// server (test/tools/pg_server.sh starts one), on PostgreSQL: the same
// tests run on both. Worker processes are forked children, as the tuner's.
#include "src/tune/Storage.h"

#include "TestDir.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>
#include <thread>

namespace mlcrt::tune {
namespace {

using test::errorOf;

constexpr const char *kHost = "testhost";
constexpr double kInf = std::numeric_limits<double>::infinity();

std::string workerOf(pid_t pid) { return fmt::format("{}:{}", kHost, pid); }
std::string me() { return workerOf(::getpid()); }

Space sampleSpace() {
  Space s;
  Dim lr;
  lr.path = "optimizer.lr";
  lr.kind = Dim::LogUniform;
  lr.low = 1e-4;
  lr.high = 0.1;
  Dim dropout;
  dropout.path = "model.dropout";
  dropout.kind = Dim::Uniform;
  dropout.high = 0.5;
  Dim hidden;
  hidden.path = "model.hidden";
  hidden.kind = Dim::Int;
  hidden.low = 32;
  hidden.high = 512;
  hidden.step = 32;
  hidden.log = true;
  hidden.structural = true;
  Dim opt;
  opt.path = "optimizer";
  opt.kind = Dim::Choice;
  opt.choices = {"adam", "sgd"};
  Dim momentum;
  momentum.path = "optimizer.momentum";
  momentum.high = 0.99;
  momentum.parent = 3;
  momentum.when = {"sgd"};
  s.dims = {lr, dropout, hidden, opt, momentum};
  return s;
}

// sgd with momentum; adam, whose momentum is inactive.
const Params kSgd = {0.1 + 0.2, 0.25, 128, 1, 0.9};
const Params kAdam = {1e-3, 0.0, 64, 0, std::nullopt};
const char *kSgdJson =
    R"({"optimizer.lr":0.30000000000000004,"model.dropout":0.25,"model.hidden":128,"optimizer":"sgd",)"
    R"("optimizer.momentum":0.9})";

void expectSameSpace(const Space &a, const Space &b) {
  ASSERT_EQ(a.dims.size(), b.dims.size());
  for (size_t i = 0; i < a.dims.size(); ++i) {
    const Dim &x = a.dims[i], &y = b.dims[i];
    EXPECT_EQ(x.path, y.path);
    EXPECT_EQ(x.kind, y.kind) << x.path;
    EXPECT_EQ(x.low, y.low) << x.path;
    EXPECT_EQ(x.high, y.high) << x.path;
    EXPECT_EQ(x.kind == Dim::Int ? x.step : 1, y.step) << x.path;
    EXPECT_EQ(x.log, y.log) << x.path;
    EXPECT_EQ(x.choices, y.choices) << x.path;
    EXPECT_EQ(x.structural, y.structural) << x.path;
    EXPECT_EQ(x.parent, y.parent) << x.path;
    EXPECT_EQ(x.when, y.when) << x.path;
  }
}

bool same(std::optional<double> a, std::optional<double> b) {
  if (!a || !b) return !a && !b;
  return std::isnan(*a) ? std::isnan(*b) : *a == *b;
}

// Runs `body` in a forked child, which exits 0, or 1 after writing what it
// threw to `dir/error-<pid>`.
pid_t spawn(const std::filesystem::path &dir, const std::function<void()> &body) {
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  int rc = 0;
  try {
    body();
  } catch (const std::exception &e) {
    std::ofstream(dir / fmt::format("error-{}", ::getpid())) << e.what();
    rc = 1;
  }
  ::_exit(rc);
}

std::string childError(const std::filesystem::path &dir, pid_t pid) {
  std::ifstream in(dir / fmt::format("error-{}", pid));
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

int waitFor(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

// A pid no process has: a child that has exited and been reaped.
pid_t deadPid() {
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  waitFor(pid);
  return pid;
}

// Every trial reads back whole: numbered 0..n-1 (snapshot checks), a
// complete trial with its parameters and its three reports, and a budget
// that is its largest report.
void expectConsistent(const Study &s) {
  for (const Trial &t : s.trials) {
    SCOPED_TRACE(fmt::format("trial {} ({})", t.number, stateName(t.state)));
    EXPECT_GE(t.attempts, 1);
    int64_t largest = t.intermediate.empty() ? 0 : t.intermediate.rbegin()->first;
    EXPECT_EQ(t.budget, largest);
    if (t.state == TrialState::Complete) {
      EXPECT_EQ(t.params, kSgd);
      EXPECT_EQ(t.intermediate.size(), 3u);
      EXPECT_TRUE(same(t.value, 0.5));
    }
    if (!t.params.empty()) {
      EXPECT_EQ(t.params, kSgd);
    }
  }
}

class StorageTest : public test::TempDirTest, public ::testing::WithParamInterface<std::string> {
protected:
  void SetUp() override {
    TempDirTest::SetUp();
    if (postgres()) {
      const char *env = std::getenv("MLC_TEST_POSTGRES_URL");
      if (!env || !*env) GTEST_SKIP() << "MLC_TEST_POSTGRES_URL names no PostgreSQL server";
      url_ = env;
    } else {
      url_ = "sqlite:" + (dir_ / "study.db").string();
    }
    info_ = makeInfo("a");
  }

  bool postgres() const { return GetParam() == "postgres"; }

  // Studies on a shared server outlive the test: each name is new.
  StudyInfo makeInfo(const std::string &suffix) const {
    const auto *test = ::testing::UnitTest::GetInstance()->current_test_info();
    StudyInfo info;
    info.name = fmt::format("{}-{}-{}-{}", test->name(), ::getpid(), suffix,
                            std::chrono::steady_clock::now().time_since_epoch().count());
    info.objective = "val.loss";
    info.space = sampleSpace();
    info.fingerprint = "fp-1";
    return info;
  }

  std::unique_ptr<Storage> open(const StudyInfo &info) const {
    auto s = openStorage(url_);
    s->open(info);
    return s;
  }
  std::unique_ptr<Storage> open() const { return open(info_); }

  // The first column of what `query` selects, read past the storage; NULL
  // reads "NULL". `%STUDY%` stands for the study's id.
  std::vector<std::string> raw(std::string query) const {
    std::string study = fmt::format("(SELECT id FROM studies WHERE name = '{}')", info_.name);
    for (size_t p; (p = query.find("%STUDY%")) != std::string::npos;) query.replace(p, 7, study);
    return postgres() ? rawPostgres(query) : rawSqlite(query);
  }

  std::vector<std::string> rawSqlite(const std::string &query) const {
    sqlite3 *db = nullptr;
    std::vector<std::string> out;
    EXPECT_EQ(sqlite3_open((dir_ / "study.db").c_str(), &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    sqlite3_stmt *stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, query.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      const auto *text = reinterpret_cast<const char *>(sqlite3_column_text(stmt, 0));
      out.push_back(text ? text : "NULL");
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return out;
  }

  std::vector<std::string> rawPostgres(const std::string &query) const {
    PGconn *conn = PQconnectdb(url_.c_str());
    std::vector<std::string> out;
    PGresult *res = PQexec(conn, query.c_str());
    EXPECT_TRUE(PQresultStatus(res) == PGRES_TUPLES_OK || PQresultStatus(res) == PGRES_COMMAND_OK)
        << PQerrorMessage(conn);
    for (int r = 0; r < PQntuples(res); ++r) out.push_back(PQgetisnull(res, r, 0) ? "NULL" : PQgetvalue(res, r, 0));
    PQclear(res);
    PQfinish(conn);
    return out;
  }

  // Forks `workers` children that each open the study and run trials until
  // claim says no more; returns the numbers each claimed, in claim order.
  std::vector<std::vector<int>> runWorkers(int workers, int target) {
    int gate[2];
    EXPECT_EQ(::pipe(gate), 0);
    std::vector<pid_t> pids;
    for (int w = 0; w < workers; ++w) {
      pids.push_back(spawn(dir_, [&, w] {
        ::close(gate[1]);
        char byte;
        while (::read(gate[0], &byte, 1) > 0) {
        }  // all start at once, when the parent closes the pipe
        auto s = open();
        std::ofstream out(dir_ / fmt::format("claims-{}", w));
        while (auto c = s->claim(target, me())) {
          out << c->number << '\n' << std::flush;
          s->setParams(c->number, kSgd);
          s->report(c->number, 1, 0.5);
          s->finish(c->number, TrialState::Complete, 0.5, "");
        }
      }));
    }
    ::close(gate[0]);
    ::close(gate[1]);
    std::vector<std::vector<int>> claims;
    for (int w = 0; w < workers; ++w) {
      EXPECT_EQ(waitFor(pids[size_t(w)]), 0) << childError(dir_, pids[size_t(w)]);
      std::ifstream in(dir_ / fmt::format("claims-{}", w));
      claims.emplace_back();
      for (int n; in >> n;) claims.back().push_back(n);
    }
    return claims;
  }

  std::string url_;
  StudyInfo info_;
};

TEST_P(StorageTest, CreatesThenOpens) {
  info_.minimize = false;
  auto s = openStorage(url_);
  EXPECT_FALSE(s->open(info_));
  EXPECT_TRUE(s->open(info_));
  EXPECT_TRUE(openStorage(url_)->open(info_));
  if (!postgres()) {
    EXPECT_EQ(s->describe(), url_);
  }
  Study study = s->snapshot();
  EXPECT_EQ(study.name, info_.name);
  EXPECT_EQ(study.objective, "val.loss");
  EXPECT_FALSE(study.minimize);
  expectSameSpace(study.space, info_.space);
  EXPECT_TRUE(study.trials.empty());
}

TEST_P(StorageTest, ReadingAStudyCreatesNothing) {
  // No tables yet (a new SQLite file, an empty database): no study, and
  // still no tables after asking.
  if (!postgres()) {
    EXPECT_EQ(errorOf([&] { openStorage(url_, false); }),
              fmt::format("no study storage at {}: `{}` does not exist (run `tune` first)", url_, url_.substr(7)));
  }
  auto reader = openStorage(url_);
  std::string missing = fmt::format("no study '{}' in {} (run `tune` first)", info_.name, reader->describe());
  EXPECT_EQ(errorOf([&] { reader->open(info_, false); }), missing);
  EXPECT_EQ(errorOf([&] { reader->open(info_, false); }), missing);
  // Another study in the storage: this one is still not created by reading.
  open(makeInfo("other"));
  EXPECT_EQ(errorOf([&] { openStorage(url_)->open(info_, false); }), missing);
  EXPECT_FALSE(openStorage(url_)->open(info_));  // created by `tune` only now
  EXPECT_TRUE(openStorage(url_, false)->open(info_, false));
}

TEST_P(StorageTest, AnotherFingerprintIsNotContinued) {
  auto s = open();
  StudyInfo changed = info_;
  changed.fingerprint = "fp-2";
  EXPECT_EQ(errorOf([&] { openStorage(url_)->open(changed); }),
            fmt::format("study '{}' in {} was started with another search space, objective, search or pruner "
                        "(fingerprint fp-1, now fp-2); name another study or storage to start afresh",
                        info_.name, s->describe()));
}

TEST_P(StorageTest, StudiesInOneStorageAreApart) {
  auto a = open();
  auto b = open(makeInfo("b"));
  EXPECT_EQ(a->claim(5, me())->number, 0);
  EXPECT_EQ(a->claim(5, me())->number, 1);
  EXPECT_EQ(b->claim(5, me())->number, 0);
  EXPECT_EQ(a->snapshot().trials.size(), 2u);
  EXPECT_EQ(b->snapshot().trials.size(), 1u);
}

TEST_P(StorageTest, ClaimsNumberTrialsUpToTheTarget) {
  auto s = open();
  for (int i = 0; i < 4; ++i) {
    auto c = s->claim(4, me());
    ASSERT_TRUE(c);
    EXPECT_EQ(c->number, i);
    EXPECT_TRUE(c->fresh);
    EXPECT_TRUE(c->params.empty());
    EXPECT_EQ(c->attempts, 1);
  }
  EXPECT_FALSE(s->claim(4, me()));
  EXPECT_EQ(s->claim(5, me())->number, 4);  // a larger target goes on
  Study study = s->snapshot();
  ASSERT_EQ(study.trials.size(), 5u);
  for (const Trial &t : study.trials) {
    EXPECT_EQ(t.state, TrialState::Running);
    EXPECT_EQ(t.worker, me());
    EXPECT_GT(t.started, 0);
    EXPECT_EQ(t.heartbeat, t.started);
    EXPECT_EQ(t.finished, 0);
  }
}

TEST_P(StorageTest, FailedTrialsCountTowardsTheTarget) {
  auto s = open();
  s->claim(2, me());
  s->finish(0, TrialState::Failed, std::nullopt, "out of memory");
  s->claim(2, me());
  EXPECT_FALSE(s->claim(2, me()));
}

TEST_P(StorageTest, RequeuedTrialRunsAgainWithItsParameters) {
  auto s = open();
  s->claim(2, me());
  s->setParams(0, kSgd);
  s->claim(2, me());
  s->setParams(1, kAdam);
  s->report(0, 1, 0.75);
  s->requeue(0, "retry 1: exit status 3");
  // Waiting trials go first, even at the target.
  auto c = s->claim(2, "otherhost:7");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->number, 0);
  EXPECT_FALSE(c->fresh);
  EXPECT_EQ(c->params, kSgd);
  EXPECT_EQ(c->attempts, 2);
  EXPECT_FALSE(s->claim(2, me()));

  Trial t = s->snapshot().trials[0];
  EXPECT_EQ(t.state, TrialState::Running);
  EXPECT_EQ(t.worker, "otherhost:7");
  EXPECT_EQ(t.attempts, 2);
  EXPECT_EQ(t.error, "retry 1: exit status 3");
  EXPECT_EQ(t.intermediate, (std::map<int64_t, double>{{1, 0.75}}));
  EXPECT_EQ(t.budget, 1);

  s->requeue(1, "");
  c = s->claim(2, me());
  EXPECT_EQ(c->params, kAdam);  // an inactive parameter stays inactive
}

TEST_P(StorageTest, RequeuedTrialWithoutParametersIsFresh) {
  auto s = open();
  s->claim(1, me());
  s->requeue(0, "");
  auto c = s->claim(1, me());
  EXPECT_EQ(c->number, 0);
  EXPECT_TRUE(c->fresh);
  EXPECT_EQ(c->attempts, 2);
}

TEST_P(StorageTest, NamesAMissingTrial) {
  auto s = open();
  std::string where = fmt::format("study '{}' in {}: trial 3", info_.name, s->describe());
  EXPECT_EQ(errorOf([&] { s->requeue(3, ""); }), where + ": there is no such trial");
  EXPECT_EQ(errorOf([&] { s->report(3, 1, 0.5); }), where + ": there is no such trial");
  EXPECT_EQ(errorOf([&] { s->finish(3, TrialState::Complete, 1.0, ""); }), where + ": there is no such trial");
  EXPECT_EQ(errorOf([&] { s->setRun(3, "r", "l"); }), where + ": there is no such trial");
  s->claim(1, me());
  EXPECT_EQ(errorOf([&] { s->finish(0, TrialState::Running, 1.0, ""); }),
            fmt::format("study '{}' in {}: trial 0: a trial cannot finish running", info_.name, s->describe()));
  EXPECT_EQ(errorOf([&] { s->setParams(0, {1.0}); }),
            fmt::format("study '{}' in {}: trial 0: 1 parameters for a space of 5", info_.name, s->describe()));
}

TEST_P(StorageTest, ReportReplacesAtABudgetAndKeepsTheLargest) {
  auto s = open();
  s->claim(1, me());
  s->report(0, 1, 0.9);
  s->report(0, 3, 0.7);
  s->report(0, 2, 0.8);
  s->report(0, 3, 0.6);  // a restarted trial reports epoch 3 again
  Trial t = s->snapshot().trials[0];
  EXPECT_EQ(t.intermediate, (std::map<int64_t, double>{{1, 0.9}, {2, 0.8}, {3, 0.6}}));
  EXPECT_EQ(t.budget, 3);
}

TEST_P(StorageTest, FinishKeepsStatesAndEveryValue) {
  auto s = open();
  const std::vector<std::optional<double>> values = {0.1 + 0.2, 1e-300, std::nan(""), kInf, -kInf, std::nullopt};
  for (size_t i = 0; i < values.size(); ++i) s->claim(10, me());
  s->report(0, 1, std::nan(""));
  s->report(0, 2, kInf);
  s->report(0, 3, -kInf);
  s->finish(0, TrialState::Complete, values[0], "");
  s->finish(1, TrialState::Pruned, values[1], "");
  s->finish(2, TrialState::Complete, values[2], "");
  s->finish(3, TrialState::Complete, values[3], "");
  s->finish(4, TrialState::Pruned, values[4], "");
  s->finish(5, TrialState::Failed, values[5], "Traceback:\n  line 1\nboom 'quoted'");
  Study study = s->snapshot();
  ASSERT_EQ(study.trials.size(), values.size());
  const TrialState states[] = {TrialState::Complete, TrialState::Pruned,   TrialState::Complete,
                               TrialState::Complete, TrialState::Pruned,   TrialState::Failed};
  for (size_t i = 0; i < values.size(); ++i) {
    const Trial &t = study.trials[i];
    EXPECT_EQ(t.state, states[i]) << i;
    EXPECT_TRUE(same(t.value, values[i])) << i;
    EXPECT_GE(t.finished, t.started) << i;
  }
  EXPECT_EQ(study.trials[5].error, "Traceback:\n  line 1\nboom 'quoted'");
  const auto &m = study.trials[0].intermediate;
  ASSERT_EQ(m.size(), 3u);
  EXPECT_TRUE(std::isnan(m.at(1)));
  EXPECT_EQ(m.at(2), kInf);
  EXPECT_EQ(m.at(3), -kInf);
  ASSERT_TRUE(study.best());
  EXPECT_EQ(study.best()->number, 0);
}

TEST_P(StorageTest, SnapshotHoldsEverything) {
  auto s = open();
  s->claim(3, "hostA:11");
  s->setParams(0, kSgd);
  s->setRun(0, "lr0.3-sgd", "/runs/tune/0/log.txt");
  s->report(0, 1, 0.5);
  s->report(0, 2, 0.25);
  s->finish(0, TrialState::Complete, 0.25, "");
  s->claim(3, "hostB:22");
  s->setParams(1, kAdam);
  s->report(1, 1, 0.9);
  s->claim(3, "hostB:23");
  s->requeue(1, "restarted");

  Study study = s->snapshot();
  EXPECT_EQ(study.name, info_.name);
  EXPECT_EQ(study.objective, "val.loss");
  EXPECT_TRUE(study.minimize);
  expectSameSpace(study.space, info_.space);
  ASSERT_EQ(study.trials.size(), 3u);

  const Trial &a = study.trials[0];
  EXPECT_EQ(a.number, 0);
  EXPECT_EQ(a.state, TrialState::Complete);
  EXPECT_EQ(a.params, kSgd);
  EXPECT_EQ(a.value, 0.25);
  EXPECT_EQ(a.intermediate, (std::map<int64_t, double>{{1, 0.5}, {2, 0.25}}));
  EXPECT_EQ(a.budget, 2);
  EXPECT_EQ(a.attempts, 1);
  EXPECT_EQ(a.error, "");
  EXPECT_EQ(a.run, "lr0.3-sgd");
  EXPECT_EQ(a.log, "/runs/tune/0/log.txt");
  EXPECT_EQ(a.worker, "hostA:11");
  EXPECT_GT(a.started, 1.5e9);
  EXPECT_GE(a.finished, a.started);
  EXPECT_EQ(a.heartbeat, a.started);

  const Trial &b = study.trials[1];
  EXPECT_EQ(b.number, 1);
  EXPECT_EQ(b.state, TrialState::Waiting);
  EXPECT_EQ(b.params, kAdam);
  EXPECT_FALSE(b.value);
  EXPECT_EQ(b.intermediate, (std::map<int64_t, double>{{1, 0.9}}));
  EXPECT_EQ(b.budget, 1);
  EXPECT_EQ(b.attempts, 1);
  EXPECT_EQ(b.error, "restarted");
  EXPECT_EQ(b.run, "");
  EXPECT_EQ(b.worker, "");
  EXPECT_EQ(b.finished, 0);

  const Trial &c = study.trials[2];
  EXPECT_EQ(c.number, 2);
  EXPECT_EQ(c.state, TrialState::Running);
  EXPECT_TRUE(c.params.empty());
  EXPECT_TRUE(c.intermediate.empty());
  EXPECT_EQ(c.worker, "hostB:23");
  EXPECT_EQ(c.attempts, 1);

  ASSERT_TRUE(study.best());
  EXPECT_EQ(study.best()->number, 0);
}

TEST_P(StorageTest, ParametersAreReadableJson) {
  auto s = open();
  s->claim(2, me());
  s->setParams(0, kSgd);
  s->claim(2, me());
  s->setParams(1, kAdam);
  s->finish(1, TrialState::Complete, std::nan(""), "");
  EXPECT_EQ(raw("SELECT params_json FROM trials WHERE study_id = %STUDY% ORDER BY number"),
            (std::vector<std::string>{
                kSgdJson, R"({"optimizer.lr":0.001,"model.dropout":0.0,"model.hidden":64,"optimizer":"adam"})"}));
  EXPECT_EQ(raw("SELECT value FROM trials WHERE study_id = %STUDY% AND number = 1"), std::vector<std::string>{"NaN"});
  EXPECT_EQ(raw("SELECT direction FROM studies WHERE id = %STUDY%"), std::vector<std::string>{"minimize"});
}

TEST_P(StorageTest, AnUnknownChoiceIsAnError) {
  auto s = open();
  s->claim(1, me());
  std::string where = fmt::format("study '{}' in {}: trial 0", info_.name, s->describe());
  raw(R"(UPDATE trials SET params_json = '{"optimizer":"rmsprop"}' WHERE study_id = %STUDY%)");
  EXPECT_EQ(errorOf([&] { s->snapshot(); }),
            where + R"(: optimizer = "rmsprop" is not one of its choices (adam, sgd))");
  raw(R"(UPDATE trials SET params_json = '{"optimizer.lr":"big"}' WHERE study_id = %STUDY%)");
  EXPECT_EQ(errorOf([&] { s->snapshot(); }), where + R"(: optimizer.lr = "big" is not a number)");
  raw(R"(UPDATE trials SET params_json = '{"layers":3}' WHERE study_id = %STUDY%)");
  EXPECT_EQ(errorOf([&] { s->snapshot(); }), where + ": layers is not a parameter of the study's space");
  s->requeue(0, "");
  EXPECT_EQ(errorOf([&] { s->claim(1, me()); }), where + ": layers is not a parameter of the study's space");
}

TEST_P(StorageTest, RecoversTheTrialsOfADeadProcess) {
  auto s = open();
  pid_t dead = deadPid();
  s->claim(10, workerOf(dead));
  s->setParams(0, kSgd);
  s->claim(10, me());                                // alive
  s->claim(10, fmt::format("otherhost:{}", dead));  // another machine's: not looked for
  s->claim(10, workerOf(dead));                      // dead, and no parameters yet
  EXPECT_EQ(s->recoverOrphans(kHost, 3600), (std::vector<int>{0, 3}));
  Study study = s->snapshot();
  EXPECT_EQ(study.trials[0].state, TrialState::Waiting);
  EXPECT_EQ(study.trials[0].error, fmt::format("restarted: its worker {} stopped", workerOf(dead)));
  EXPECT_EQ(study.trials[0].worker, "");
  EXPECT_EQ(study.trials[1].state, TrialState::Running);
  EXPECT_EQ(study.trials[2].state, TrialState::Running);
  EXPECT_EQ(study.trials[3].state, TrialState::Waiting);
  EXPECT_TRUE(s->recoverOrphans(kHost, 3600).empty());

  auto c = s->claim(4, me());
  EXPECT_EQ(c->number, 0);
  EXPECT_FALSE(c->fresh);
  EXPECT_EQ(c->params, kSgd);
  EXPECT_EQ(c->attempts, 2);
  c = s->claim(4, me());
  EXPECT_EQ(c->number, 3);
  EXPECT_TRUE(c->fresh);
  EXPECT_FALSE(s->claim(4, me()));  // the live worker's trial is not handed out
}

TEST_P(StorageTest, RecoversTrialsWithoutAHeartbeat) {
  auto s = open();
  s->claim(10, "otherhost:1");
  s->claim(10, "otherhost:2");
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  s->heartbeat("otherhost:2");
  EXPECT_TRUE(s->recoverOrphans(kHost, 0).empty());  // no deadline: processes only
  EXPECT_EQ(s->recoverOrphans(kHost, 0.4), (std::vector<int>{0}));
  Study study = s->snapshot();
  EXPECT_EQ(study.trials[0].state, TrialState::Waiting);
  EXPECT_EQ(study.trials[0].error, "restarted: its worker otherhost:1 stopped");
  EXPECT_EQ(study.trials[1].state, TrialState::Running);
  EXPECT_GT(study.trials[1].heartbeat, study.trials[1].started);
}

TEST_P(StorageTest, ProcessesClaimConcurrently) {
  const int workers = 4, target = 40;
  auto claims = runWorkers(workers, target);
  std::vector<int> all;
  for (const auto &c : claims) all.insert(all.end(), c.begin(), c.end());
  std::sort(all.begin(), all.end());
  std::vector<int> expected(target);
  for (int i = 0; i < target; ++i) expected[size_t(i)] = i;
  EXPECT_EQ(all, expected);  // each number once
  Study study = open()->snapshot();
  ASSERT_EQ(study.trials.size(), size_t(target));
  for (const Trial &t : study.trials) EXPECT_EQ(t.state, TrialState::Complete) << t.number;
}

TEST_P(StorageTest, RequeuedTrialsAreClaimedOnce) {
  {
    auto s = open();
    for (int i = 0; i < 12; ++i) s->claim(12, me());
    for (int i = 0; i < 12; i += 2) s->requeue(i, "");
  }
  auto claims = runWorkers(3, 12);
  std::vector<int> all;
  for (const auto &c : claims) all.insert(all.end(), c.begin(), c.end());
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, (std::vector<int>{0, 2, 4, 6, 8, 10}));
}

TEST_P(StorageTest, ExitingMidwayLeavesAConsistentStudy) {
  pid_t child = spawn(dir_, [&] {
    auto s = open();
    s->claim(3, me());
    s->setParams(0, kSgd);
    s->report(0, 1, 0.5);
    s->claim(3, me());
    ::_exit(0);  // without finishing trial 0 or sampling trial 1
  });
  ASSERT_EQ(waitFor(child), 0) << childError(dir_, child);
  auto s = open();
  Study study = s->snapshot();
  ASSERT_EQ(study.trials.size(), 2u);
  EXPECT_EQ(study.trials[0].state, TrialState::Running);
  EXPECT_EQ(study.trials[0].params, kSgd);
  EXPECT_EQ(study.trials[1].state, TrialState::Running);
  EXPECT_TRUE(study.trials[1].params.empty());
  EXPECT_EQ(s->recoverOrphans(kHost, 3600), (std::vector<int>{0, 1}));
  auto c = s->claim(3, me());
  EXPECT_EQ(c->number, 0);
  EXPECT_EQ(c->params, kSgd);
  EXPECT_EQ(c->attempts, 2);
  c = s->claim(3, me());
  EXPECT_EQ(c->number, 1);
  EXPECT_TRUE(c->fresh);
  EXPECT_EQ(s->claim(3, me())->number, 2);
}

TEST_P(StorageTest, ReconnectsWhenTheServerDropsTheConnection) {
  if (!postgres()) GTEST_SKIP() << "SQLite has no connection to lose";
  std::string app = fmt::format("mlc-test-{}", ::getpid());
  url_ += (url_.find('?') == std::string::npos ? "?application_name=" : "&application_name=") + app;
  auto s = open();
  s->claim(5, me());
  EXPECT_EQ(raw("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '" + app +
                "' AND pid <> pg_backend_pid()"),
            std::vector<std::string>{"t"});
  EXPECT_EQ(s->claim(5, me())->number, 1);
  EXPECT_EQ(s->snapshot().trials.size(), 2u);
}

// SIGKILL lands anywhere, inside transactions too.
TEST_P(StorageTest, KilledWorkersLeaveAConsistentStudy) {
  for (int round = 0; round < 6; ++round) {
    pid_t child = spawn(dir_, [&] {
      auto s = open();
      while (auto c = s->claim(1000000, me())) {
        s->setParams(c->number, kSgd);
        for (int epoch = 1; epoch <= 3; ++epoch) s->report(c->number, epoch, 0.5);
        s->finish(c->number, TrialState::Complete, 0.5, "");
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(40 + 25 * round));
    ::kill(child, SIGKILL);
    int status = waitFor(child);
    ASSERT_TRUE(WIFSIGNALED(status)) << childError(dir_, child);
    auto s = open();
    EXPECT_LE(s->recoverOrphans(kHost, 3600).size(), 1u);
    Study study = s->snapshot();
    expectConsistent(study);
    for (const Trial &t : study.trials) EXPECT_NE(t.state, TrialState::Running);
  }
  Study study = open()->snapshot();
  EXPECT_GT(study.trials.size(), 0u);
  if (!postgres()) {
    EXPECT_EQ(rawSqlite("PRAGMA integrity_check"), std::vector<std::string>{"ok"});
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, StorageTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto &info) { return info.param; });

// ---- What does not depend on the backend's server -----------------------

using StorageUrlTest = test::TempDirTest;

TEST_F(StorageUrlTest, SqliteCreatesTheFileAndItsDirectory) {
  auto path = dir_ / "a" / "b" / "study.db";
  auto s = openStorage("sqlite:" + path.string());
  EXPECT_EQ(s->describe(), "sqlite:" + path.string());
  EXPECT_TRUE(std::filesystem::exists(path));
  EXPECT_EQ(openStorage(path.string())->describe(), "sqlite:" + path.string());
  EXPECT_EQ(openStorage("sqlite://" + path.string())->describe(), "sqlite:" + path.string());
}

TEST_F(StorageUrlTest, NamesABadUrl) {
  EXPECT_EQ(errorOf([] { openStorage(""); }), "the study storage is empty: name a SQLite file or a postgresql:// url");
  EXPECT_EQ(errorOf([] { openStorage("mysql://db/x"); }),
            "study storage mysql://db/x: unknown scheme 'mysql' (sqlite: or postgresql://)");
  EXPECT_EQ(errorOf([] { openStorage("sqlite:"); }), "study storage sqlite:: no file named");
  std::string dir = dir_.string();
  EXPECT_EQ(errorOf([&] { openStorage(dir); }), "sqlite:" + dir + ": unable to open database file");
  std::ofstream(dir_ / "text.db") << "not a database, but long enough to look like a header of one....\n";
  EXPECT_EQ(errorOf([&] { openStorage((dir_ / "text.db").string()); }),
            "sqlite:" + (dir_ / "text.db").string() + ": file is not a database");
}

TEST_F(StorageUrlTest, NeedsAStudyOpen) {
  auto s = openStorage((dir_ / "s.db").string());
  EXPECT_EQ(errorOf([&] { s->snapshot(); }), "sqlite:" + (dir_ / "s.db").string() + ": no study is open");
  EXPECT_EQ(errorOf([&] { s->claim(1, me()); }), "sqlite:" + (dir_ / "s.db").string() + ": no study is open");
}

TEST_F(StorageUrlTest, RefusesANewerSchema) {
  auto path = (dir_ / "s.db").string();
  StudyInfo info{"s", "val.loss", true, sampleSpace(), "fp"};
  openStorage(path)->open(info);
  sqlite3 *db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_exec(db, "UPDATE schema_version SET version = 9", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  EXPECT_EQ(errorOf([&] { openStorage(path)->open(info); }),
            "sqlite:" + path + ": written by a newer mlc (schema version 9; this one knows 1)");
}

TEST_F(StorageUrlTest, PostgresErrorsMaskThePassword) {
  // Port 1: nothing listens, so the connection is refused at once.
  for (std::string url : {"postgresql://alice:s3cret@127.0.0.1:1/mlc",
                          "postgres://alice@127.0.0.1:1/mlc?password=s3cret&sslmode=disable"}) {
    std::string error = errorOf([&] { openStorage(url); });
    std::string shown = url;
    shown.replace(shown.find("s3cret"), 6, "***");
    EXPECT_EQ(error.rfind(shown + ": ", 0), 0u) << error;
    EXPECT_EQ(error.find("s3cret"), std::string::npos) << error;
  }
}

}  // namespace
}  // namespace mlcrt::tune
