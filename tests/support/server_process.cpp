#include "support/server_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "support/test_images.hpp"

#ifndef TESSERA_BINARY
#error "TESSERA_BINARY must name the tessera executable"
#endif

namespace tessera::testing {

namespace {

// fork + exec with stdout to a pipe and stderr to a file; returns the pid.
pid_t spawn(const std::vector<std::string>& args, const std::vector<std::string>& env,
            int stdout_fd, int stderr_fd) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(TESSERA_BINARY));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    dup2(stdout_fd, STDOUT_FILENO);
    dup2(stderr_fd, STDERR_FILENO);
    for (const auto& e : env) putenv(const_cast<char*>(e.c_str()));
    execv(TESSERA_BINARY, argv.data());
    _exit(127);
  }
  return pid;
}

}  // namespace

ServerProcess::ServerProcess(const std::filesystem::path& root, std::vector<std::string> extra,
                             std::vector<std::string> env) {
  std::vector<std::string> args{"serve", root.string(), "--port", "0"};
  args.insert(args.end(), extra.begin(), extra.end());
  std::array<int, 2> out{};
  if (pipe(out.data()) != 0) throw std::runtime_error("pipe failed");
  log_path_ = make_temp_dir("tessera-log") / "stderr.log";
  const int err = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_ = spawn(args, env, out[1], err);
  close(out[1]);
  close(err);

  // The first line of stdout names the port: "Tessera listening on http://host:port/ ...".
  FILE* stream = fdopen(out[0], "r");
  char line[1024];
  const std::regex listening(R"(listening on http://[^ ]*:(\d+)/)");
  std::string seen;
  while (std::fgets(line, sizeof line, stream) != nullptr) {
    seen += line;
    std::cmatch m;
    if (std::regex_search(line, m, listening)) {
      port_ = static_cast<unsigned short>(std::stoi(m[1].str()));
      break;
    }
  }
  // Keep draining stdout in the background so the server never blocks on it.
  std::thread([stream] {
    char sink[1024];
    while (std::fgets(sink, sizeof sink, stream) != nullptr) {
    }
    std::fclose(stream);
  }).detach();
  if (port_ == 0) {
    const std::string errors = log();
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
    throw std::runtime_error("tessera did not start: " + seen + errors);
  }
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    bool exited = false;
    for (int i = 0; i < 100 && !exited; ++i) {
      exited = waitpid(pid_, nullptr, WNOHANG) == pid_;
      if (!exited) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (!exited) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  std::error_code ignored;
  std::filesystem::remove_all(log_path_.parent_path(), ignored);
}

bool ServerProcess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

std::string ServerProcess::log() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int run_tessera(const std::vector<std::string>& args, std::string& output,
                const std::vector<std::string>& env) {
  const auto path = make_temp_dir("tessera-run") / "output.txt";
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const pid_t pid = spawn(args, env, fd, fd);
  close(fd);
  int status = 0;
  waitpid(pid, &status, 0);
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  output = ss.str();
  std::filesystem::remove_all(path.parent_path());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace tessera::testing
