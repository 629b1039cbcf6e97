#include "scratchdet/engine/launch.h"

#include <fmt/format.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <thread>
#include <vector>

#include "scratchdet/core/error.h"

extern char** environ;

namespace scratchdet::engine {
namespace {

// This process's own command line, as the kernel has it.
std::vector<std::string> OwnArguments() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> args;
  size_t begin = 0;
  for (size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\0') {
      args.push_back(text.substr(begin, i - begin));
      begin = i + 1;
    }
  return args;
}

// The launcher forwards SIGTERM to its workers; SIGINT from a terminal reaches them directly
// (same process group), so the launcher only has to survive it.
std::vector<pid_t> g_workers;
void Forward(int signal) {
  for (pid_t pid : g_workers) kill(pid, signal);
}
void Ignore(int) {}

std::string Describe(int status) {
  if (WIFEXITED(status)) return fmt::format("exited with code {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return fmt::format("was killed by signal {}", WTERMSIG(status));
  return "stopped";
}

int ExitCodeOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

}  // namespace

int FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) Fail("--nproc: cannot open a socket to find a free port");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  close(fd);
  if (!ok) Fail("--nproc: cannot find a free port on 127.0.0.1 (set MASTER_PORT)");
  return ntohs(addr.sin_port);
}

std::map<std::string, std::string> Environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    const size_t eq = entry.find('=');
    if (eq != std::string::npos) env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  return env;
}

std::optional<int> LaunchLocalWorkers(const ConfigFlags& flags) {
  if (flags.nproc <= 1) return std::nullopt;
  const std::map<std::string, std::string> env = Environment();
  if (env.count("WORLD_SIZE")) {
    // Started by this launcher or by torchrun: run as the worker.
    const auto local = env.find("LOCAL_WORLD_SIZE");
    if (local != env.end() && local->second != std::to_string(flags.nproc))
      Fail("--nproc {} in a worker that its launcher started as one of {} local processes",
           flags.nproc, local->second);
    return std::nullopt;
  }
  const std::vector<std::string> args = OwnArguments();
  if (args.empty()) Fail("--nproc: cannot read this process's command line");
  const std::string addr = env.count("MASTER_ADDR") ? env.at("MASTER_ADDR") : "127.0.0.1";
  const std::string port =
      env.count("MASTER_PORT") ? env.at("MASTER_PORT") : std::to_string(FreeLoopbackPort());
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  signal(SIGINT, Ignore);
  signal(SIGTERM, Forward);
  std::vector<pid_t> pids;
  for (int rank = 0; rank < flags.nproc; ++rank) {
    std::map<std::string, std::string> worker_env = env;
    worker_env["RANK"] = worker_env["LOCAL_RANK"] = std::to_string(rank);
    worker_env["WORLD_SIZE"] = worker_env["LOCAL_WORLD_SIZE"] = std::to_string(flags.nproc);
    worker_env["MASTER_ADDR"] = addr;
    worker_env["MASTER_PORT"] = port;
    std::vector<std::string> entries;
    for (const auto& [key, value] : worker_env) entries.push_back(key + "=" + value);
    std::vector<char*> envp;
    for (std::string& e : entries) envp.push_back(e.data());
    envp.push_back(nullptr);
    pid_t pid = 0;
    const int error = posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, argv.data(),
                                  envp.data());
    if (error != 0) {
      Forward(SIGKILL);
      Fail("--nproc: cannot start rank {}: {}", rank, std::strerror(error));
    }
    pids.push_back(pid);
    g_workers = pids;
  }
  fmt::print(stderr, "launcher: started {} processes (ranks 0-{}) with master {}:{}\n",
             flags.nproc, flags.nproc - 1, addr, port);

  int first_failure = 0;
  int running = flags.nproc;
  std::optional<std::chrono::steady_clock::time_point> deadline;
  while (running > 0) {
    int status = 0;
    const pid_t pid = waitpid(-1, &status, deadline ? WNOHANG : 0);
    if (pid < 0 && errno == EINTR) continue;
    if (pid < 0) break;
    if (pid == 0) {  // a rank failed earlier; the others have until the deadline
      if (deadline && std::chrono::steady_clock::now() > *deadline) {
        fmt::print(stderr, "launcher: the other ranks did not stop in time; killing them\n");
        Forward(SIGKILL);
        deadline.reset();
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      continue;
    }
    --running;
    const int rank = static_cast<int>(std::find(pids.begin(), pids.end(), pid) - pids.begin());
    if (ExitCodeOf(status) != 0 && first_failure == 0) {
      first_failure = ExitCodeOf(status);
      fmt::print(stderr, "launcher: rank {} {}; stopping the run\n", rank, Describe(status));
      deadline = std::chrono::steady_clock::now() +
                 std::chrono::milliseconds(static_cast<int64_t>(flags.dist_timeout_s * 1000)) +
                 std::chrono::seconds(30);
    }
  }
  g_workers.clear();
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  return first_failure;
}

std::unique_ptr<DataParallelGroup> JoinGroupFromEnvironment(ConfigFlags& flags) {
  const std::map<std::string, std::string> env = Environment();
  ProcessGroupConfig config = ProcessGroupFromEnvironment(env);
  if (config.world_size <= 1) return nullptr;
  config.timeout = std::chrono::milliseconds(static_cast<int64_t>(flags.dist_timeout_s * 1000));
  flags.local_rank = config.local_rank;
  flags.local_world_size = config.local_world_size;
  flags.world_size = config.world_size;
  return std::make_unique<DataParallelGroup>(config);
}

}  // namespace scratchdet::engine
