#include "e2e/fcgi_support.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace tessera::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string read_text_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool wait_for(const std::function<bool()>& ready, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (ready()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return ready();
}

std::string find_program(const std::string& name) {
  std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
  path += ":/usr/sbin:/sbin:/usr/bin:/bin";
  std::stringstream dirs(path);
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const fs::path candidate = fs::path(dir) / name;
    if (!dir.empty() && ::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  throw std::runtime_error(name + " is not installed (scripts/setup.sh installs it)");
}

unsigned short free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool can_connect(unsigned short port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

bool can_connect(const fs::path& unix_socket) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, unix_socket.c_str(), sizeof addr.sun_path - 1);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// ---------------------------------------------------------------------------

Child::Child(const std::vector<std::string>& argv, const std::vector<std::string>& env,
             const fs::path& output)
    : output_(output) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const int out = ::open(output.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const int null = ::open("/dev/null", O_RDONLY);
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::setpgid(0, 0);
    ::dup2(null, STDIN_FILENO);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(out, STDERR_FILENO);
    for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
    ::execv(args[0], args.data());
    _exit(127);
  }
  ::setpgid(pid_, pid_);  // as the child does: whichever runs first
  group_ = pid_;
  ::close(out);
  ::close(null);
}

Child::~Child() {
  if (pid_ > 0) stop(SIGKILL);
  if (group_ > 0) ::kill(-group_, SIGKILL);
}

int Child::wait(std::chrono::milliseconds timeout) {
  int status = -1;
  wait_for(
      [&] {
        if (pid_ <= 0) return true;
        int s = 0;
        if (::waitpid(pid_, &s, WNOHANG) != pid_) return false;
        pid_ = -1;
        status = WIFEXITED(s) ? WEXITSTATUS(s) : 128 + WTERMSIG(s);
        return true;
      },
      timeout);
  return pid_ > 0 ? -1 : status;
}

int Child::stop(int sig) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, sig);
  const int status = wait(20s);
  if (status >= 0) return status;
  ::kill(pid_, SIGKILL);
  int s = 0;
  ::waitpid(pid_, &s, 0);
  pid_ = -1;
  return 128 + SIGKILL;
}

// ---------------------------------------------------------------------------

std::string documented_block(const std::string& marker, const std::string& language,
                             const std::vector<std::pair<std::string, std::string>>& replacements) {
  const fs::path doc =
      fs::path(__FILE__).parent_path().parent_path().parent_path() / "docs" / "deploy.md";
  const std::string text = read_text_file(doc);
  const std::size_t at = text.find(marker);
  if (at == std::string::npos) throw std::runtime_error("no '" + marker + "' in " + doc.string());
  const std::string fence = "```" + language + "\n";
  const std::size_t start = text.find(fence, at);
  const std::size_t end = text.find("```", start + fence.size());
  if (start == std::string::npos || end == std::string::npos) {
    throw std::runtime_error("the block after '" + marker + "' is not fenced as " + language);
  }
  std::string block = text.substr(start + fence.size(), end - start - fence.size());
  for (const auto& [from, to] : replacements) {
    if (block.find(from) == std::string::npos) {
      throw std::runtime_error("docs/deploy.md's " + language + " block must say '" + from + "'");
    }
    for (std::size_t at = 0; (at = block.find(from, at)) != std::string::npos; at += to.size()) {
      block.replace(at, from.size(), to);
    }
  }
  return block;
}

namespace {

// The nginx server block of docs/deploy.md, with its port and upstream replaced.
std::string documented_server_block(unsigned short port, const std::string& fastcgi_target) {
  return documented_block(
      "<!-- tested by tests/e2e/fcgi_test.cpp: keep `listen 80;`", "nginx",
      {{"listen 80;", fmt::format("listen 127.0.0.1:{};", port)},
       {"fastcgi_pass 127.0.0.1:9000;", "fastcgi_pass " + fastcgi_target + ";"}});
}

}  // namespace

Nginx::Nginx(const fs::path& dir, const std::string& fastcgi_target) : dir_(dir) {
  fs::create_directories(dir_);
  for (int attempt = 0; attempt < 3 && !child_; ++attempt) {
    port_ = free_port();
    std::ofstream(dir_ / "nginx.conf") << fmt::format(
        "daemon off;\nmaster_process off;\npid {0}/nginx.pid;\nerror_log {0}/error.log info;\n"
        "events {{ worker_connections 512; }}\n"
        "http {{\n  access_log {0}/access.log;\n  client_body_temp_path {0}/body;\n"
        "  fastcgi_temp_path {0}/fastcgi;\n  proxy_temp_path {0}/proxy;\n"
        "  scgi_temp_path {0}/scgi;\n  uwsgi_temp_path {0}/uwsgi;\n{1}}}\n",
        dir_.string(), documented_server_block(port_, fastcgi_target));
    child_ =
        std::make_unique<Child>(std::vector<std::string>{find_program("nginx"), "-p", dir_.string(),
                                                         "-c", (dir_ / "nginx.conf").string(), "-e",
                                                         (dir_ / "error.log").string()},
                                std::vector<std::string>{}, dir_ / "nginx.out");
    if (!wait_for([&] { return can_connect(port_) || child_->wait(0ms) >= 0; }) ||
        !can_connect(port_)) {
      child_.reset();  // the port was taken meanwhile, or nginx failed: try again
    }
  }
  if (!child_) {
    throw std::runtime_error("nginx did not start: " + read_text_file(dir_ / "error.log") +
                             read_text_file(dir_ / "nginx.out"));
  }
}

Nginx::~Nginx() {
  if (child_) child_->stop(SIGQUIT);
}

std::string Nginx::error_log() const { return read_text_file(dir_ / "error.log"); }

std::string wait_for_fastcgi_line(const Child& child) {
  const std::regex listening(R"(listening on fastcgi://(\S+) serving)");
  std::smatch m;
  std::string output;
  wait_for([&] {
    output = child.output();
    return std::regex_search(output, m, listening);
  });
  if (!std::regex_search(output, m, listening)) {
    throw std::runtime_error("tessera did not say where it listens: " + output);
  }
  return m[1].str();
}

}  // namespace tessera::testing
