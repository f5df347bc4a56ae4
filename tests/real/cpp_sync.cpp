// cpp_sync.cpp - a correct C++ program for tests/real: std::thread with
// std::mutex, std::condition_variable (a bounded producer/consumer queue) and
// std::shared_mutex (readers and writers of a table). Locks are always taken
// in one order, every thread is joined and nothing leaks, so threadlens must
// find nothing of severity error. Prints totals that do not depend on
// scheduling.
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <vector>

namespace {

constexpr int kProducers = 3;
constexpr int kConsumers = 3;
constexpr int kItemsPerProducer = 20000;
constexpr size_t kQueueCapacity = 64;
constexpr int kReaders = 4;
constexpr int kWriters = 2;
constexpr int kTableOps = 20000;

class BoundedQueue {
  public:
    void push(long v)
    {
        std::unique_lock<std::mutex> lock(mutex_);
        not_full_.wait(lock, [this] { return items_.size() < kQueueCapacity; });
        items_.push_back(v);
        not_empty_.notify_one();
    }

    // Returns false once the queue is closed and drained.
    bool pop(long *v)
    {
        std::unique_lock<std::mutex> lock(mutex_);
        not_empty_.wait(lock, [this] { return !items_.empty() || closed_; });
        if (items_.empty())
            return false;
        *v = items_.front();
        items_.pop_front();
        not_full_.notify_one();
        return true;
    }

    void close()
    {
        std::lock_guard<std::mutex> lock(mutex_);
        closed_ = true;
        not_empty_.notify_all();
    }

  private:
    std::mutex mutex_;
    std::condition_variable not_full_, not_empty_;
    std::deque<long> items_;
    bool closed_ = false;
};

long run_queue()
{
    BoundedQueue queue;
    std::mutex total_mutex;
    long total = 0;
    std::vector<std::thread> producers, consumers;

    for (int c = 0; c < kConsumers; c++)
        consumers.emplace_back([&] {
            long v, mine = 0;
            while (queue.pop(&v))
                mine += v;
            std::lock_guard<std::mutex> lock(total_mutex);
            total += mine;
        });
    for (int p = 0; p < kProducers; p++)
        producers.emplace_back([&queue, p] {
            for (int i = 1; i <= kItemsPerProducer; i++)
                queue.push((long)p * kItemsPerProducer + i);
        });
    for (auto &t : producers)
        t.join();
    queue.close();
    for (auto &t : consumers)
        t.join();
    return total;
}

long run_table()
{
    std::shared_mutex table_mutex;
    std::map<int, long> table;
    std::mutex sum_mutex;
    long reads = 0;
    std::vector<std::thread> threads;

    for (int w = 0; w < kWriters; w++)
        threads.emplace_back([&, w] {
            for (int i = 0; i < kTableOps; i++) {
                std::unique_lock<std::shared_mutex> lock(table_mutex);
                table[(i * 7 + w) % 101] += 1;
            }
        });
    for (int r = 0; r < kReaders; r++)
        threads.emplace_back([&] {
            long seen = 0;
            for (int i = 0; i < kTableOps / 4; i++) {
                std::shared_lock<std::shared_mutex> lock(table_mutex);
                seen += table.count(i % 101) ? 1 : 0;
            }
            std::lock_guard<std::mutex> lock(sum_mutex);
            reads += seen >= 0;
        });
    for (auto &t : threads)
        t.join();
    long total = 0;
    for (const auto &kv : table)
        total += kv.second;
    return total * 1000 + reads;
}

} // namespace

int main()
{
    long queue_total = run_queue();
    long table_total = run_table();
    std::printf("queue total %ld\n", queue_total);
    std::printf("table total %ld\n", table_total);
    long n = (long)kProducers * kItemsPerProducer;
    return queue_total == n * (n + 1) / 2 && table_total == (long)kWriters * kTableOps * 1000 +
                                                               kReaders
               ? 0
               : 1;
}
