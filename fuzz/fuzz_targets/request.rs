//! Coverage-guided fuzzing of whole requests through the router: the first byte picks the
//! operation, the rest is the body. No panic and no 5xx.
#![no_main]
use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use sfnlite::api::Limits;
use sfnlite::http::router;
use sfnlite::store::{Store, StoreOptions, Synchronous};

const OPERATIONS: &[&str] = &[
    "CreateStateMachine", "DescribeStateMachine", "UpdateStateMachine", "DeleteStateMachine", "ListStateMachines",
    "ValidateStateMachineDefinition", "PublishStateMachineVersion", "ListStateMachineVersions",
    "DeleteStateMachineVersion", "CreateStateMachineAlias", "DescribeStateMachineAlias", "UpdateStateMachineAlias",
    "DeleteStateMachineAlias", "ListStateMachineAliases", "TagResource", "UntagResource", "ListTagsForResource",
];

fn runtime() -> &'static (tokio::runtime::Runtime, axum::Router) {
    static RT: OnceLock<(tokio::runtime::Runtime, axum::Router)> = OnceLock::new();
    RT.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("sfnlite-fuzz-{}", std::process::id()));
        let options = StoreOptions { synchronous: Synchronous::Off, ..StoreOptions::default() };
        let store = Store::open(&dir.join("fuzz.db"), &options).expect("store");
        let mut config = sfnlite::Config::for_tests(std::path::Path::new("unused"));
        config.version_quota = 5;
        config.max_body_bytes = 256 * 1024;
        let mut state = sfnlite::app::app_state(store, &config);
        state.limits = Arc::new(Limits { version_quota: 5, alias_quota: 3 });
        (tokio::runtime::Runtime::new().expect("runtime"), router(state))
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, body)) = data.split_first() else { return };
    let op = OPERATIONS[first as usize % OPERATIONS.len()];
    let (rt, app) = runtime();
    let req = http::Request::post("/")
        .header("x-amz-target", format!("AWSStepFunctions.{op}"))
        .body(axum::body::Body::from(body.to_vec()))
        .expect("request");
    let status = rt.block_on(async {
        use tower::ServiceExt;
        app.clone().oneshot(req).await.expect("infallible").status()
    });
    assert!(status.as_u16() < 500, "{op} answered {status}");
});
