/* C++: iostream, exceptions (also thrown and caught in another thread), std::thread,
 * std::mutex, std::atomic and std::async; each needs futexes and threads. */
#include <iostream>
#include <thread>
#include <vector>
#include <mutex>
#include <stdexcept>
#include <future>
#include <atomic>
int main() {
    std::cout << "hello from iostream" << std::endl;
    try { throw std::runtime_error("boom"); } catch (const std::exception &e) { std::cout << "caught " << e.what() << "\n"; }
    std::mutex m; long total = 0; std::atomic<int> hits{0};
    std::vector<std::thread> ts;
    for (int i = 0; i < 4; i++) ts.emplace_back([&, i] { for (int k = 0; k < 10000; k++) { std::lock_guard<std::mutex> g(m); total += i; } hits++; });
    for (auto &t : ts) t.join();
    auto f = std::async(std::launch::async, [] { return 6 * 7; });
    std::cout << "total " << total << " hits " << hits << " async " << f.get() << std::endl;
    std::thread t([] { try { throw 5; } catch (int x) { std::cout << "thread caught " << x << std::endl; } });
    t.join();
}
