//! Rate limits and concurrency: the only place that decides when an AWS call may go out, and the
//! only place that pauses between calls.
//!
//! AWS enforces its quotas per API, per account and per region (ACM) or per calling account (STS,
//! Organizations, Account), so there is one limiter per API, keyed the way AWS keys its bucket.
//! Rate is not concurrency: slow answers pile up in-flight calls, so every call waits for its
//! limiter, then takes a permit of one global semaphore for its time on the wire (see
//! `Limits::run`). A call AWS still throttles after the SDK's own attempts is sent again after
//! the pauses of [`THROTTLE_PAUSES`] ([`patient`]), each time through its limiter again.

use crate::aws::AwsError;
use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Jitter, NotUntil, Quota, RateLimiter};

/// A moment of the limiters' clock.
type Moment = <DefaultClock as Clock>::Instant;
use std::future::Future;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Requests per second allowed for each API. Defaults are 80% of AWS's published quotas.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Rates {
    /// acm:ListCertificates, per account and region (quota 1).
    pub list_certificates: f64,
    /// acm:DescribeCertificate, per account and region (quota 10).
    pub describe_certificate: f64,
    /// acm:SearchCertificates, per account and region. AWS does not publish this quota; it is
    /// paced like ListCertificates until it does.
    pub search_certificates: f64,
    /// sts:AssumeRole from the calling account (quota 600). The scan's one sts:GetCallerIdentity
    /// is paced by the same limiter (see `Limits::sts`).
    pub assume_role: f64,
    /// organizations:ListAccounts (quota undocumented and low).
    pub organizations: f64,
    /// account:ListRegions, per member account (quota 5 per calling account).
    pub list_regions: f64,
}

impl Default for Rates {
    fn default() -> Self {
        Rates {
            list_certificates: 0.8,
            describe_certificate: 8.0,
            search_certificates: 0.8,
            assume_role: 480.0,
            organizations: 2.0,
            list_regions: 4.0,
        }
    }
}

impl Rates {
    /// The first rate that is not a positive finite number, as (key, value).
    pub fn invalid(&self) -> Option<(&'static str, f64)> {
        [
            ("list_certificates", self.list_certificates),
            ("describe_certificate", self.describe_certificate),
            ("search_certificates", self.search_certificates),
            ("assume_role", self.assume_role),
            ("organizations", self.organizations),
            ("list_regions", self.list_regions),
        ]
        .into_iter()
        .find(|(_, rate)| !(rate.is_finite() && *rate > 0.0 && *rate <= 100_000.0))
    }
}

/// Which (account, region) a keyed call is for. Account ids are 12 digits and fit a u64; regions
/// are interned to an index by the scan, so keys stay small (limiters never forget keys).
pub type Key = (u64, u16);

/// One API's limiter, and how long a call it released may wait for a permit before it is paced
/// again ([`repace_after`] of its rate).
struct Paced<L> {
    limiter: L,
    repace_after: Duration,
}

type Keyed = Paced<RateLimiter<Key, DefaultKeyedStateStore<Key>, DefaultClock>>;
type Direct = Paced<RateLimiter<NotKeyed, InMemoryState, DefaultClock>>;

fn keyed(per_second: f64) -> Keyed {
    Paced {
        limiter: RateLimiter::keyed(quota(per_second)),
        repace_after: repace_after(per_second),
    }
}

fn direct(per_second: f64) -> Direct {
    Paced {
        limiter: RateLimiter::direct(quota(per_second)),
        repace_after: repace_after(per_second),
    }
}

/// Where the calls' time went, summed over every call (nanoseconds).
#[derive(Debug, Default)]
pub(crate) struct Timing {
    /// Waiting for the API's rate limiter (the quota).
    pub limiter_ns: AtomicU64,
    /// Waiting for an in-flight permit (`max_concurrency`).
    pub permit_ns: AtomicU64,
    /// On the wire: the SDK call itself, retries included.
    pub call_ns: AtomicU64,
}

impl Timing {
    /// One call's waits and time on the wire.
    fn add(&self, limiter: Duration, permit: Duration, call: Duration) {
        for (counter, time) in [
            (&self.limiter_ns, limiter),
            (&self.permit_ns, permit),
            (&self.call_ns, call),
        ] {
            counter.fetch_add(time.as_nanos() as u64, Ordering::Relaxed);
        }
    }

    pub(crate) fn call_time(&self) -> certwatch_core::CallTime {
        let ms = |c: &AtomicU64| c.load(Ordering::Relaxed) / 1_000_000;
        certwatch_core::CallTime {
            quota_wait_ms: ms(&self.limiter_ns),
            concurrency_wait_ms: ms(&self.permit_ns),
            in_flight_ms: ms(&self.call_ns),
        }
    }
}

pub(crate) struct Limits {
    pub(crate) timing: Timing,
    inflight: Semaphore,
    list_certificates: Keyed,
    describe_certificate: Keyed,
    search_certificates: Keyed,
    list_regions: Keyed,
    /// acm:ResendValidationEmail (`act`, never the scan), at [`RESEND_RATE`].
    resend_email: Keyed,
    /// sts:AssumeRole and sts:GetCallerIdentity, both the calling account's.
    sts: Direct,
    organizations: Direct,
}

/// acm:ResendValidationEmail per account and region: 80% of ACM's quota (1/s), as the default
/// [`Rates`] are. Not a configuration key: only a person's request sends one, a domain at a time.
pub(crate) const RESEND_RATE: f64 = 0.8;

/// Each quota as a governor quota: no burst, so calls are spaced evenly and never exceed the rate
/// inside any window.
fn quota(per_second: f64) -> Quota {
    let period = Duration::from_secs_f64(1.0 / per_second);
    Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(NonZeroU32::MIN)
}

/// A call that waited longer than this for an in-flight permit after its limiter let it go gives
/// the permit back and is paced again (once), so calls held back together are not sent together.
/// 250 ms: AWS's bucket holds about a second of an API's rate, so a group held back a quarter of
/// that is paced again well before it could empty the bucket at once, while a queue that is
/// merely busy (calls ahead finishing within a round trip or two) seldom makes a call wait that
/// long. APIs at ≤ 1 call/s wait less ([`repace_after`]).
pub(crate) const REPACE_AFTER: Duration = Duration::from_millis(250);

/// For an API at ≤ 1 call/s, the fraction (1/this) of its period a call may wait for a permit
/// before it is paced again. 25: a 25th of the period (4%) stays inside a 5% margin between rate
/// and quota (rates set at 95% of the quotas, as measured in [`repace_after`]; the defaults, at
/// 80%, leave more).
const PAGED_REPACE_DIVISOR: f64 = 25.0;

/// How long a call may wait for a permit before it is paced again: [`REPACE_AFTER`], less for an
/// API at `per_second` ≤ 1 (ListCertificates, SearchCertificates, whose pages follow one another):
/// AWS's bucket for those holds one request, so pages sent closer than the quota's period are
/// throttled. A page held back for a permit by more than the margin between
/// our rate and the quota would arrive too close to the next one (the next page's limiter counts
/// from when the held page was *released*): measured at 10,000 accounts with rates at 95%, 4
/// throttles, all on the second or third page of a large target. A [`PAGED_REPACE_DIVISOR`]th of
/// the period stays inside the 5% margin.
pub(crate) fn repace_after(per_second: f64) -> Duration {
    if per_second > 1.0 {
        return REPACE_AFTER;
    }
    Duration::from_secs_f64(1.0 / per_second / PAGED_REPACE_DIVISOR).min(REPACE_AFTER)
}

/// The most a limiter adds at random to a call's release time, so calls released together don't
/// hit AWS in lockstep. Jitter only ever delays a call, so it never raises a rate; 5 ms is small
/// against the period of the per-target APIs (125 ms for describes at the default 8/s).
const JITTER: Duration = Duration::from_millis(5);

fn jitter() -> Jitter {
    Jitter::up_to(JITTER)
}

/// Waits until `check` (a limiter's) lets a call through, plus `jitter` whenever it had to
/// wait, as governor's `until_ready_with_jitter` does, but on tokio's timer: governor sleeps on
/// futures-timer's global thread, and its wake-ups (a futex and a context switch per wait) cost
/// CPU at a scan's quarter-million waits.
async fn until_ready(
    clock: &DefaultClock,
    jitter: Jitter,
    check: impl Fn() -> Result<(), NotUntil<Moment>>,
) {
    while let Err(negative) = check() {
        tokio::time::sleep(jitter + negative.wait_time_from(clock.now())).await;
    }
}

/// Pauses before sending again a call that AWS still throttles after the SDK's own attempts
/// (`aws::SDK_MAX_ATTEMPTS`). A throttling storm (AWS's bucket for one account-region nearly
/// empty for seconds) outlasts the SDK's backoff (at most `aws::SDK_MAX_BACKOFF`); without these
/// rounds the target would be reported failed and its certificates lost. Doubling from 1 s gives
/// the bucket time to refill (ListCertificates' holds one second of its quota), and four rounds
/// bound the wait (≈ 15 s, with ≤ 4 × `SDK_MAX_ATTEMPTS` extra attempts) so a target that stays
/// throttled is reported failed rather than holding up the scan. The pauses are slept with no
/// permit held, and each round goes through the call's limiter again.
pub(crate) const THROTTLE_PAUSES: [Duration; 4] = [
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(4),
    Duration::from_secs(8),
];

/// Runs `call` (one paced, SDK-retried AWS call: a `Limits` method around the SDK call) and runs
/// it again after each of [`THROTTLE_PAUSES`] while AWS still answers that it is throttled. The
/// pauses are taken between calls, so no permit is held while sleeping; each new call waits for
/// its limiter (and a permit) like any other.
pub(crate) async fn patient<T, F, Fut>(call: F) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    patient_with(&THROTTLE_PAUSES, call).await
}

async fn patient_with<T, F, Fut>(pauses: &[Duration], mut call: F) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    let mut pauses = pauses.iter();
    loop {
        match call().await {
            Err(error) if error.is_throttling() => match pauses.next() {
                Some(pause) => tokio::time::sleep(*pause).await,
                None => return Err(error),
            },
            other => return other,
        }
    }
}

impl std::fmt::Debug for Limits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Limits")
    }
}

impl Limits {
    pub(crate) fn new(rates: &Rates, max_concurrency: usize) -> Self {
        Limits {
            timing: Timing::default(),
            inflight: Semaphore::new(max_concurrency),
            list_certificates: keyed(rates.list_certificates),
            describe_certificate: keyed(rates.describe_certificate),
            search_certificates: keyed(rates.search_certificates),
            list_regions: keyed(rates.list_regions),
            resend_email: keyed(RESEND_RATE),
            sts: direct(rates.assume_role),
            organizations: direct(rates.organizations),
        }
    }

    /// Paces, then bounds: the limiter is waited for first and the in-flight permit is taken
    /// only when the call is about to go out, so the permit covers time on the wire only.
    ///
    /// (It used to be the other way round. Measured with certwatch-bench: a call waiting for its
    /// key's limiter held a permit while sleeping, so a few targets with many certificates (10
    /// describes each, paced at 10/s) and 17 regions per account filled a 64-permit semaphore with
    /// sleepers and the scan ran at 1.7× the quota bound instead of 1.07×.)
    ///
    /// The risk of this order is a burst: calls paced by the limiter queue at the semaphore and
    /// go out together when permits free up. That is bounded: a key has at most 10 calls in
    /// flight (one list at a time, `DESCRIBES_IN_FLIGHT` describes), AWS's bucket holds about a
    /// second of its rate, and a call that waited for a permit longer than its API's
    /// [`repace_after`] gives the permit back, waits for its limiter once more and queues again
    /// (once).
    async fn run<T, W: Future<Output = ()>>(
        &self,
        repace_after: Duration,
        wait: impl Fn() -> W,
        call: impl Future<Output = T>,
    ) -> T {
        let mut limiter = Duration::ZERO;
        let mut permit_wait = Duration::ZERO;
        let mut repaced = false;
        let _permit = loop {
            let paced = Instant::now();
            wait().await;
            let queued = Instant::now();
            limiter += queued - paced;
            // The semaphore is never closed, so acquire cannot fail; if it ever did, the call
            // would still be rate limited, just not concurrency limited.
            let permit = self.inflight.acquire().await.ok();
            let waited = queued.elapsed();
            permit_wait += waited;
            if waited <= repace_after || repaced {
                break permit;
            }
            // Paced again *without* the permit: holding it while sleeping on the limiter kept
            // permits from calls ready to go, which made the waits longer, which made more
            // calls re-pace (measured: 3,000 accounts took 7× the quota bound, permits idle).
            drop(permit);
            repaced = true;
        };
        let sent = Instant::now();
        let out = call.await;
        self.timing.add(limiter, permit_wait, sent.elapsed());
        out
    }

    /// A call of a keyed API (quota per account and region, or per member account).
    async fn keyed<T>(&self, api: &Keyed, key: Key, call: impl Future<Output = T>) -> T {
        let wait = || {
            until_ready(api.limiter.clock(), jitter(), || {
                api.limiter.check_key(&key)
            })
        };
        self.run(api.repace_after, wait, call).await
    }

    /// A call of an API whose quota is the calling account's.
    async fn direct<T>(&self, api: &Direct, call: impl Future<Output = T>) -> T {
        let wait = || until_ready(api.limiter.clock(), jitter(), || api.limiter.check());
        self.run(api.repace_after, wait, call).await
    }

    pub(crate) async fn list_certificates<T>(&self, key: Key, call: impl Future<Output = T>) -> T {
        self.keyed(&self.list_certificates, key, call).await
    }

    pub(crate) async fn describe_certificate<T>(
        &self,
        key: Key,
        call: impl Future<Output = T>,
    ) -> T {
        self.keyed(&self.describe_certificate, key, call).await
    }

    pub(crate) async fn search_certificates<T>(
        &self,
        key: Key,
        call: impl Future<Output = T>,
    ) -> T {
        self.keyed(&self.search_certificates, key, call).await
    }

    pub(crate) async fn list_regions<T>(&self, key: Key, call: impl Future<Output = T>) -> T {
        self.keyed(&self.list_regions, key, call).await
    }

    /// acm:ResendValidationEmail, keyed like the other ACM calls (`act`'s one write).
    pub(crate) async fn resend_email<T>(&self, key: Key, call: impl Future<Output = T>) -> T {
        self.keyed(&self.resend_email, key, call).await
    }

    /// An STS call (sts:AssumeRole up front, sts:GetCallerIdentity): one limiter for both, the
    /// calling account's. GetCallerIdentity is made once per scan; pacing it with AssumeRole
    /// never exceeds STS's quota, whether AWS counts the two together or apart.
    pub(crate) async fn sts<T>(&self, call: impl Future<Output = T>) -> T {
        self.direct(&self.sts, call).await
    }

    /// An STS call made *inside* a call that already holds a permit: a member role re-assumed by
    /// its identity cache when an ACM or Account call finds the credentials about to expire. It
    /// waits for the STS limiter but takes no permit of its own: waiting for a second permit
    /// while holding one could leave every permit held by calls waiting for re-assumptions that
    /// no permit is left for, until their timeouts. Its time is already counted in the
    /// enclosing call's (`Timing::call_ns`).
    pub(crate) async fn sts_within_call<T>(&self, call: impl Future<Output = T>) -> T {
        until_ready(self.sts.limiter.clock(), jitter(), || {
            self.sts.limiter.check()
        })
        .await;
        call.await
    }

    pub(crate) async fn organizations<T>(&self, call: impl Future<Output = T>) -> T {
        self.direct(&self.organizations, call).await
    }

    /// organizations:ListAccounts, the scan's critical path at scale: one page at a time, each
    /// sent when the last has answered, so 10,000 accounts are 500 pages at the quota's pace
    /// and any delay between two pages adds to the scan. It waits for the Organizations
    /// limiter (which the accounts' metadata lookups share) without jitter, as one caller
    /// that no other page runs beside, and takes no permit, as a single call, so it never
    /// queues behind the ACM calls in flight.
    pub(crate) async fn list_accounts<T>(&self, call: impl Future<Output = T>) -> T {
        let limiter = &self.organizations.limiter;
        let paced = Instant::now();
        let no_jitter = Jitter::up_to(Duration::ZERO);
        until_ready(limiter.clock(), no_jitter, || limiter.check()).await;
        let sent = Instant::now();
        let out = call.await;
        self.timing
            .add(sent - paced, Duration::ZERO, sent.elapsed());
        out
    }

    /// Drop limiter state of keys that have been idle; called once a scan ends.
    pub(crate) fn forget_idle_keys(&self) {
        self.list_certificates.limiter.retain_recent();
        self.describe_certificate.limiter.retain_recent();
        self.search_certificates.limiter.retain_recent();
        self.list_regions.limiter.retain_recent();
        self.resend_email.limiter.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn calls_on_one_key_are_spaced_at_the_rate() {
        let rates = Rates {
            describe_certificate: 20.0,
            ..Rates::default()
        };
        let limits = Limits::new(&rates, 16);
        let start = Instant::now();
        for _ in 0..5 {
            limits.describe_certificate((1, 0), async {}).await;
        }
        // The first call goes at once, the next four wait 50 ms each.
        assert!(
            start.elapsed() >= Duration::from_millis(195),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn keys_do_not_share_a_bucket() {
        let limits = Limits::new(&Rates::default(), 16);
        assert!(limits.list_certificates.limiter.check_key(&(1, 0)).is_ok());
        assert!(
            limits.list_certificates.limiter.check_key(&(1, 0)).is_err(),
            "same target waits"
        );
        assert!(
            limits.list_certificates.limiter.check_key(&(1, 1)).is_ok(),
            "other region is free"
        );
        assert!(
            limits.list_certificates.limiter.check_key(&(2, 0)).is_ok(),
            "other account is free"
        );
    }

    #[test]
    fn paged_apis_re_pace_inside_the_margin_to_their_quota() {
        // 0.95/s against a 1/s quota: a 5% margin of 1.05 s; held back longer, a page would
        // reach AWS too close to the next.
        let t = repace_after(0.95);
        assert!(t < Duration::from_secs_f64(1.0 / 0.95 - 1.0), "{t:?}");
        assert!(t > Duration::from_millis(30), "{t:?}");
        assert_eq!(repace_after(8.0), REPACE_AFTER);
        assert_eq!(repace_after(0.01), REPACE_AFTER);
    }

    fn throttled() -> AwsError {
        AwsError {
            code: Some("ThrottlingException".into()),
            status: Some(400),
            message: "Rate exceeded".into(),
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn throttled_calls_are_sent_again_after_each_pause() {
        let pauses = [Duration::from_millis(10), Duration::from_millis(20)];
        // Throttled twice, then answered: three calls, both pauses slept.
        let mut calls = 0;
        let start = Instant::now();
        let out = patient_with(&pauses, || {
            calls += 1;
            let answer = if calls <= 2 {
                Err(throttled())
            } else {
                Ok(calls)
            };
            async move { answer }
        })
        .await;
        assert_eq!(out, Ok(3));
        assert!(
            start.elapsed() >= Duration::from_millis(30),
            "{:?}",
            start.elapsed()
        );

        // Throttled every time: one call per pause and one more, then the throttle is the error.
        let mut calls = 0;
        let out: Result<(), _> = patient_with(&pauses, || {
            calls += 1;
            async { Err(throttled()) }
        })
        .await;
        assert_eq!((out, calls), (Err(throttled()), 3));

        // Any other error is not sent again.
        let mut calls = 0;
        let out: Result<(), _> = patient_with(&pauses, || {
            calls += 1;
            async { Err(AwsError::local("AccessDenied")) }
        })
        .await;
        assert_eq!(calls, 1);
        assert!(out.is_err());
    }

    #[test]
    fn throttle_pauses_double_and_stay_bounded() {
        assert!(THROTTLE_PAUSES.windows(2).all(|w| w[1] == w[0] * 2));
        let total: Duration = THROTTLE_PAUSES.iter().sum();
        assert!(total <= Duration::from_secs(15), "{total:?}");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn every_re_send_goes_through_the_limiter() {
        // At 20/s, the 3 calls of a call throttled twice are spaced 50 ms apart by the limiter
        // on top of the pauses (here none).
        let rates = Rates {
            describe_certificate: 20.0,
            ..Rates::default()
        };
        let limits = Limits::new(&rates, 16);
        let mut calls = 0;
        let start = Instant::now();
        let out = patient_with(&[Duration::ZERO, Duration::ZERO], || {
            calls += 1;
            let answer = if calls <= 2 { Err(throttled()) } else { Ok(()) };
            limits.describe_certificate((1, 0), async move { answer })
        })
        .await;
        assert_eq!(out, Ok(()));
        assert!(
            start.elapsed() >= Duration::from_millis(95),
            "{:?}",
            start.elapsed()
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_re_assumption_inside_a_call_takes_no_second_permit() {
        let limits = Limits::new(&Rates::default(), 1);
        // The one permit, held by the call whose credentials are being refreshed.
        let _held = limits.inflight.acquire().await.expect("open semaphore");
        let refreshed = tokio::time::timeout(
            Duration::from_secs(5),
            limits.sts_within_call(async { "credentials" }),
        )
        .await;
        assert_eq!(refreshed, Ok("credentials"));
    }

    #[test]
    fn invalid_rates_are_named() {
        let bad = Rates {
            describe_certificate: 0.0,
            ..Rates::default()
        };
        assert_eq!(bad.invalid(), Some(("describe_certificate", 0.0)));
        assert_eq!(Rates::default().invalid(), None);
    }
}
