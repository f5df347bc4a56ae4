/*
 * abba_cpp.cpp - abba_two_threads in C++17: std::mutex, std::lock_guard and
 * std::thread (libstdc++ forwards them to pthread_mutex_* / pthread_create).
 * The thread functions are extern "C" so stacks name them without mangling.
 * Expected: one lock-order-inversion error naming thread_a and thread_b.
 */
#include <cstdio>
#include <mutex>
#include <thread>

#define NOINLINE __attribute__((noinline))

std::mutex lock_a;
std::mutex lock_b;
int shared_value; // protected by lock_a and lock_b

extern "C" {

NOINLINE void thread_a()
{
    std::lock_guard<std::mutex> hold_a(lock_a);
    std::lock_guard<std::mutex> hold_b(lock_b);
    shared_value += 1;
}

NOINLINE void thread_b()
{
    std::lock_guard<std::mutex> hold_b(lock_b);
    std::lock_guard<std::mutex> hold_a(lock_a);
    shared_value += 2;
}

} // extern "C"

int main()
{
    std::thread first(thread_a);
    first.join();
    std::thread second(thread_b);
    second.join();
    std::printf("abba_cpp: value=%d\n", shared_value);
    return 0;
}
