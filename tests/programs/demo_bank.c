/*
 * demo_bank.c - the bundled demo: a small bank with the textbook deadlock.
 *
 * Each account has its own mutex, and transfer(from, to) locks `from` then
 * `to`. A pool of tellers settles the day in two batches:
 *
 *   payroll   the employer (account 0) pays every employee (accounts 1..7)
 *   refunds   employee 3 refunds overpaid salary to the employer
 *
 * A payroll transfer 0->3 and a refund 3->0 running at the same time would
 * deadlock. Here they never overlap: every teller finishes its share of the
 * payroll before any teller starts refunding (a barrier), so the demo always
 * ends and prints the same balances. threadlens still sees both orders, taken
 * by different tellers: one lock-order-inversion error (accounts 0 and 3).
 *
 * Tellers take requests by stride (teller t handles t, t+N_TELLERS, ...), so
 * which tellers take which order is fixed too.
 */
#include "prog_util.h"

#define N_ACCOUNTS 8
#define N_TELLERS 4
#define N_PAYROLL 7000
#define N_REFUNDS 400
#define EMPLOYER 0
#define REFUNDER 3

struct account {
    pthread_mutex_t lock; /* protects balance */
    long balance;
};

struct request {
    int from;
    int to;
    long amount;
};

struct account accounts[N_ACCOUNTS];
struct request payroll[N_PAYROLL]; /* written by main before the tellers start */
struct request refunds[N_REFUNDS]; /* written by main before the tellers start */
pthread_barrier_t payroll_done;

/* Moves amount from one account to the other. Locks `from`, then `to`: the bug. */
NOINLINE void transfer(int from, int to, long amount)
{
    struct account *src = &accounts[from];
    struct account *dst = &accounts[to];

    CHECK(pthread_mutex_lock(&src->lock));
    CHECK(pthread_mutex_lock(&dst->lock));
    src->balance -= amount;
    dst->balance += amount;
    CHECK(pthread_mutex_unlock(&dst->lock));
    CHECK(pthread_mutex_unlock(&src->lock));
}

static void settle(const struct request *batch, int n, int teller)
{
    for (int i = teller; i < n; i += N_TELLERS)
        transfer(batch[i].from, batch[i].to, batch[i].amount);
}

NOINLINE void *teller(void *arg)
{
    int id = (int)(long)arg;
    int rc;

    settle(payroll, N_PAYROLL, id);
    rc = pthread_barrier_wait(&payroll_done);
    REQUIRE(rc == 0 || rc == PTHREAD_BARRIER_SERIAL_THREAD);
    settle(refunds, N_REFUNDS, id);
    return NULL;
}

int main(void)
{
    pthread_t tellers[N_TELLERS];
    long total = 0;

    for (int i = 0; i < N_ACCOUNTS; i++) {
        CHECK(pthread_mutex_init(&accounts[i].lock, NULL));
        accounts[i].balance = i == EMPLOYER ? 100000 : 1000;
    }
    for (int i = 0; i < N_PAYROLL; i++)
        payroll[i] = (struct request){EMPLOYER, 1 + i % (N_ACCOUNTS - 1), 1 + i % 5};
    for (int i = 0; i < N_REFUNDS; i++)
        refunds[i] = (struct request){REFUNDER, EMPLOYER, 2};
    CHECK(pthread_barrier_init(&payroll_done, NULL, N_TELLERS));

    for (long t = 0; t < N_TELLERS; t++)
        CHECK(pthread_create(&tellers[t], NULL, teller, (void *)t));
    for (int t = 0; t < N_TELLERS; t++)
        CHECK(pthread_join(tellers[t], NULL));

    printf("demo_bank: balances");
    for (int i = 0; i < N_ACCOUNTS; i++) {
        CHECK(pthread_mutex_lock(&accounts[i].lock));
        printf(" %ld", accounts[i].balance);
        total += accounts[i].balance;
        CHECK(pthread_mutex_unlock(&accounts[i].lock));
    }
    printf(" total %ld\n", total);

    CHECK(pthread_barrier_destroy(&payroll_done));
    for (int i = 0; i < N_ACCOUNTS; i++)
        CHECK(pthread_mutex_destroy(&accounts[i].lock));
    return 0;
}
