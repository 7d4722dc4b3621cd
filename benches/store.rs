//! Micro-benchmarks of the store's hot paths: `cargo bench --bench store`.
//! The whole-service figures come from `bench/bench.py`.

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use sfnlite::api::cache::ResponseCache;
use sfnlite::api::state_machines::{self, CreateStateMachineInput, DescribeStateMachineInput};
use sfnlite::api::versions::{self, PublishStateMachineVersionInput};
use sfnlite::api::{Ctx, Limits};
use sfnlite::domain::scope::Scope;
use sfnlite::store::{Store, StoreOptions};

const DEFINITION: &str = r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#;

fn ctx(store: Store) -> Ctx {
    Ctx {
        store,
        scope: Scope::new("us-east-1", "123456789012"),
        limits: Arc::new(Limits {
            version_quota: 1_000_000_000,
            alias_quota: 100,
            time_scale: 1.0,
        }),
        cache: Arc::new(ResponseCache::default()),
        runner: Arc::new(tokio::sync::Notify::new()),
        tasks: Arc::new(tokio::sync::Notify::new()),
        definitions: Arc::default(),
        mocks: Default::default(),
        pollers: Default::default(),
        outside: sfnlite::config::Config::default().outside().unwrap(),
        trace_id: None,
    }
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("bench.db"), &StoreOptions::default()).unwrap();
    let arn = rt.block_on(async {
        let input: CreateStateMachineInput = serde_json::from_value(serde_json::json!({
            "name": "bench", "definition": DEFINITION, "roleArn": "arn:aws:iam::123456789012:role/r", "publish": true
        }))
        .unwrap();
        state_machines::create_state_machine(ctx(store.clone()), input).await.unwrap().state_machine_arn
    });
    let publish = || -> PublishStateMachineVersionInput {
        serde_json::from_value(serde_json::json!({"stateMachineArn": arn})).unwrap()
    };
    let describe = || -> DescribeStateMachineInput {
        serde_json::from_value(serde_json::json!({"stateMachineArn": format!("{arn}:1")})).unwrap()
    };

    // Without the response cache: the read transaction behind a cache miss.
    c.bench_function("idempotent publish, read path (cache cold)", |b| {
        b.to_async(&rt)
            .iter(|| versions::publish_state_machine_version_cached(ctx(store.clone()), publish()))
    });
    c.bench_function("idempotent publish, write path", |b| {
        b.to_async(&rt)
            .iter(|| versions::publish_state_machine_version(ctx(store.clone()), publish()))
    });
    let warm = ctx(store.clone());
    c.bench_function("describe version, cache warm", |b| {
        b.to_async(&rt)
            .iter(|| state_machines::describe_state_machine_cached(warm.clone(), describe()))
    });
    c.bench_function("describe version, read path (cache cold)", |b| {
        b.to_async(&rt)
            .iter(|| state_machines::describe_state_machine(ctx(store.clone()), describe()))
    });
}

criterion_group!(store_benches, benches);
criterion_main!(store_benches);
