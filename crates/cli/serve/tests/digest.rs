//! The digest loop on a clock that never sleeps: local time across DST changes, restarts,
//! an intent without a record confirmed with Slack, a read-only store, a failed post.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_digest_keeps_its_local_time_across_dst_changes() {
    // (zone, local time, first instant, the UTC instants of four digests in a row)
    let cases = [
        (
            "America/New_York",
            "09:00",
            "2026-03-06T12:00:00Z",
            // Spring forward on 2026-03-08: 09:00 EST is 14:00 UTC, 09:00 EDT 13:00 UTC.
            [
                "2026-03-06T14:00:00Z",
                "2026-03-07T14:00:00Z",
                "2026-03-08T13:00:00Z",
                "2026-03-09T13:00:00Z",
            ],
        ),
        (
            "Europe/Berlin",
            "02:30",
            "2026-10-24T00:00:00Z",
            // Fall back on 2026-10-25: 02:30 happens twice, the digest goes out the first time
            // (CEST). 02:30 CEST is 00:30 UTC, 02:30 CET 01:30 UTC.
            [
                "2026-10-24T00:30:00Z",
                "2026-10-25T00:30:00Z",
                "2026-10-26T01:30:00Z",
                "2026-10-27T01:30:00Z",
            ],
        ),
        (
            "America/New_York",
            "02:30",
            "2026-03-07T05:00:00Z",
            // 02:30 does not exist on 2026-03-08: the digest goes out when the clocks resume
            // (03:00 EDT, 07:00 UTC).
            [
                "2026-03-07T07:30:00Z",
                "2026-03-08T07:00:00Z",
                "2026-03-09T06:30:00Z",
                "2026-03-10T06:30:00Z",
            ],
        ),
    ];
    for (zone, time, start, expected) in cases {
        let rig = Rig::new(utc(start), empty_report(utc(start)));
        let app = rig.app(
            config(&digest_at(time, zone)),
            scanned_store(&empty_report(utc(start))),
        );
        run_digests(
            &app,
            &rig,
            utc(expected[3]) + chrono::Duration::days(1),
            |p| p.len() >= 4,
        )
        .await;
        let posts = rig.slack.posts();
        let times: Vec<String> = posts
            .iter()
            .map(|p| p.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .collect();
        assert_eq!(times, expected, "{zone} {time}");
        let tz: chrono_tz::Tz = zone.parse().unwrap();
        for post in &posts {
            assert_eq!(post.channel, "CDIGEST01");
            assert_eq!(post.date, post.at.with_timezone(&tz).date_naive());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_posts_neither_twice_nor_never() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.sqlite");
    let start = utc("2026-11-02T07:00:00Z");
    let rig = Rig::new(start, empty_report(start));
    {
        let mut store = Store::open(&path).unwrap();
        store.record_scan(&empty_report(start)).unwrap();
        let app = rig.app(config(&digest_at("09:00", "UTC")), store);
        run_digests(&app, &rig, utc("2026-11-03T00:00:00Z"), |p| !p.is_empty()).await;
        assert_eq!(app.digest_problem(), None);
    }
    assert_eq!(rig.slack.posts().len(), 1);

    // The same day, later: a new process on the same store posts nothing.
    rig.clock.set(utc("2026-11-02T15:00:00Z"));
    let app = rig.app(
        config(&digest_at("09:00", "UTC")),
        Store::open(&path).unwrap(),
    );
    run_digests(&app, &rig, utc("2026-11-02T23:00:00Z"), |p| p.len() > 1).await;
    assert_eq!(rig.slack.posts().len(), 1, "posted again after a restart");
    drop(app);

    // Down over the next digest's time: posted late the same day, once.
    rig.clock.set(utc("2026-11-03T18:00:00Z"));
    let app = rig.app(
        config(&digest_at("09:00", "UTC")),
        Store::open(&path).unwrap(),
    );
    run_digests(&app, &rig, utc("2026-11-03T23:59:00Z"), |p| p.len() > 2).await;
    let posts = rig.slack.posts();
    assert_eq!(posts.len(), 2, "{posts:?}");
    assert_eq!(posts[1].date, date("2026-11-03"));
    assert_eq!(posts[1].at, utc("2026-11-03T18:00:00Z"), "late, at once");
    drop(app);
    let store = Store::open(&path).unwrap();
    assert!(matches!(
        store.digest_mark(date("2026-11-03"), "CDIGEST01").unwrap(),
        Some(DigestMark::Posted { ts, .. }) if ts == posts[1].ts
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_intent_without_a_record_is_confirmed_with_slack_before_posting() {
    let start = utc("2026-11-02T09:00:30Z");
    let intended = utc("2026-11-02T09:00:00Z");

    // The post reached Slack, the process died before recording it: Slack has it, nothing is
    // posted again, and the store learns its ts.
    let rig = Rig::new(start, empty_report(start));
    let mut store = scanned_store(&empty_report(start));
    store
        .record_digest_intent(date("2026-11-02"), "CDIGEST01", intended)
        .unwrap();
    rig.slack
        .already_has("CDIGEST01", date("2026-11-02"), intended);
    let app = rig.app(config(&digest_at("09:00", "UTC")), store);
    run_digests(&app, &rig, utc("2026-11-02T12:00:00Z"), |_| false).await;
    assert_eq!(rig.slack.posts().len(), 1, "posted twice");
    assert_eq!(rig.slack.finds.load(Ordering::SeqCst), 1);
    let mark = app
        .with_store(|s| s.digest_mark(date("2026-11-02"), "CDIGEST01"))
        .await
        .unwrap();
    assert!(
        matches!(&mark, Some(DigestMark::Posted { ts, .. }) if ts == "1700000000.000001"),
        "{mark:?}"
    );

    // The process died before the post went out: Slack has nothing, so it is posted once.
    let rig = Rig::new(start, empty_report(start));
    let mut store = scanned_store(&empty_report(start));
    store
        .record_digest_intent(date("2026-11-02"), "CDIGEST01", intended)
        .unwrap();
    let app = rig.app(config(&digest_at("09:00", "UTC")), store);
    run_digests(&app, &rig, utc("2026-11-02T12:00:00Z"), |_| false).await;
    assert_eq!(rig.slack.posts().len(), 1);

    // Slack cannot be asked: nothing is posted (a double is worse than a late digest) and the
    // problem shows in /readyz; once Slack answers, the digest goes out.
    let rig = Rig::new(start, empty_report(start));
    let mut store = scanned_store(&empty_report(start));
    store
        .record_digest_intent(date("2026-11-02"), "CDIGEST01", intended)
        .unwrap();
    rig.slack.history_down.store(true, Ordering::SeqCst);
    let app = rig.app(config(&digest_at("09:00", "UTC")), store);
    let task = tokio::spawn(crate::serve::digest_loop::digest_loop(app.clone()));
    while rig.slack.finds.load(Ordering::SeqCst) < 3 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert!(rig.slack.posts().is_empty());
    let problem = app.digest_problem().expect("a digest problem");
    assert!(problem.contains("cannot tell whether"), "{problem}");
    let ready = get(&app, "/readyz").await;
    assert!(ready.1.contains("cannot tell whether"), "{}", ready.1);
    rig.slack.history_down.store(false, Ordering::SeqCst);
    while rig.slack.posts().is_empty() {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    app.stop();
    task.await.unwrap();
    assert_eq!(rig.slack.posts().len(), 1);
    assert_eq!(app.digest_problem(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_store_posts_once_then_reports_the_error() {
    let start = utc("2026-11-02T08:00:00Z");
    let rig = Rig::new(start, empty_report(start));
    let mut store = scanned_store(&empty_report(start));
    store.set_read_only(true).unwrap();
    let app = rig.app(config(&digest_at("09:00", "UTC")), store);
    // A whole day of turns after the digest's time.
    run_digests(&app, &rig, utc("2026-11-02T23:55:00Z"), |_| false).await;
    let posts = rig.slack.posts();
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert_eq!(posts[0].at, utc("2026-11-02T09:00:00Z"));
    let problem = app.digest_problem().expect("the error is reported");
    assert!(
        problem.contains("could not record") || problem.contains("cannot record"),
        "{problem}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_post_is_retried_without_doubling() {
    let start = utc("2026-11-02T09:00:00Z");
    let rig = Rig::new(start, empty_report(start));
    rig.slack.post_down.store(true, Ordering::SeqCst);
    let app = rig.app(
        config(&digest_at("09:00", "UTC")),
        scanned_store(&empty_report(start)),
    );
    let task = tokio::spawn(crate::serve::digest_loop::digest_loop(app.clone()));
    // The first post failed; the loop asks Slack before each new attempt.
    while rig.slack.finds.load(Ordering::SeqCst) < 2 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    rig.slack.post_down.store(false, Ordering::SeqCst);
    while rig.slack.posts().is_empty() {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    // And the rest of the day passes without another.
    while rig.clock.now() < utc("2026-11-02T20:00:00Z") {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    app.stop();
    task.await.unwrap();
    assert_eq!(rig.slack.posts().len(), 1);
}
