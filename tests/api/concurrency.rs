//! Concurrency as a property: the schema and one transaction per request keep publishing
//! idempotent and numbering gap-free under many simultaneous callers.

use futures::future::join_all;

use crate::helpers::*;

async fn publish_many(app: &TestApp, arn: &str, n: usize) -> Vec<(String, f64)> {
    let calls = (0..n).map(|_| {
        let c = app.client();
        let arn = arn.to_owned();
        tokio::spawn(async move {
            let r = c
                .publish_state_machine_version()
                .state_machine_arn(arn)
                .send()
                .await
                .expect("publish");
            (r.state_machine_version_arn, r.creation_date.as_secs_f64())
        })
    });
    join_all(calls)
        .await
        .into_iter()
        .map(|r| r.expect("task"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_publishes_of_one_revision_yield_one_version() {
    let app = TestApp::spawn().await;
    let arn = app.create_machine("m").await;
    // The initial configuration, then a revised one.
    for expected in [format!("{arn}:1"), format!("{arn}:2")] {
        let results = publish_many(&app, &arn, 32).await;
        assert!(
            results.iter().all(|r| r == &results[0]),
            "responses differ: {results:?}"
        );
        assert_eq!(results[0].0, expected);
        app.client()
            .update_state_machine()
            .state_machine_arn(&arn)
            .definition(definition("revised"))
            .send()
            .await
            .unwrap();
    }
    let list = app
        .client()
        .list_state_machine_versions()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(list.state_machine_versions.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_update_and_publish_calls_get_distinct_gap_free_numbers() {
    let app = TestApp::spawn().await;
    let arn = app.create_machine("m").await;
    let calls = (0..24).map(|i| {
        let c = app.client();
        let arn = arn.clone();
        tokio::spawn(async move {
            c.update_state_machine()
                .state_machine_arn(arn)
                .definition(definition(&format!("writer-{i}")))
                .publish(true)
                .send()
                .await
                .expect("update")
                .state_machine_version_arn
                .expect("version")
        })
    });
    let mut numbers: Vec<i64> = join_all(calls)
        .await
        .into_iter()
        .map(|r| {
            r.expect("task")
                .rsplit(':')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    numbers.sort();
    assert_eq!(numbers, (1..=24).collect::<Vec<i64>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_of_one_alias_agree_or_conflict() {
    let app = TestApp::spawn().await;
    let arn = app.create_machine("m").await;
    app.update_and_publish(&arn, "a").await;
    app.update_and_publish(&arn, "b").await;
    let calls = (0..16).map(|i| {
        let c = app.client();
        // Even callers ask for :1, odd ones for :2.
        let version = format!("{arn}:{}", 1 + i % 2);
        tokio::spawn(async move {
            let item = aws_sdk_sfn::types::RoutingConfigurationListItem::builder()
                .state_machine_version_arn(&version)
                .weight(100)
                .build()
                .unwrap();
            let r = c
                .create_state_machine_alias()
                .name("prod")
                .routing_configuration(item)
                .send()
                .await;
            (
                version,
                r.map(|o| o.creation_date).map_err(|e| {
                    aws_sdk_sfn::error::ProvideErrorMetadata::code(&e).map(str::to_owned)
                }),
            )
        })
    });
    let results: Vec<_> = join_all(calls)
        .await
        .into_iter()
        .map(|r| r.expect("task"))
        .collect();
    let winners: std::collections::HashSet<&String> = results
        .iter()
        .filter(|(_, r)| r.is_ok())
        .map(|(v, _)| v)
        .collect();
    assert_eq!(winners.len(), 1, "exactly one routing wins: {results:?}");
    let dates: std::collections::HashSet<String> = results
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok())
        .map(|d| d.to_string())
        .collect();
    assert_eq!(
        dates.len(),
        1,
        "every success returns the original creation date"
    );
    for (v, r) in &results {
        if !winners.contains(v) {
            assert_eq!(
                r.as_ref().unwrap_err().as_deref(),
                Some("ConflictException")
            );
        }
    }
}
