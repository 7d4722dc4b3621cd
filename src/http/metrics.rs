//! `GET /metrics` in the Prometheus text format: requests by operation and outcome, a
//! latency histogram, the database size, the number of versions stored and the transactions
//! that lost a conflict to another replica. On a shared
//! PostgreSQL database every metric carries the `replica` it was measured by.

use crate::api::admin::StorageFigures;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

/// The service's metrics, registered in a registry of their own.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    database_bytes: IntGauge,
    versions: IntGauge,
    lost_conflicts: IntGauge,
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics::for_replica(None)
    }

    /// The metrics of one replica of several: each carries `replica="<id>"`.
    pub fn for_replica(replica: Option<&str>) -> Metrics {
        let labels =
            replica.map(|r| std::iter::once(("replica".to_owned(), r.to_owned())).collect());
        let registry = Registry::new_custom(None, labels).expect("a valid label");
        let requests = IntCounterVec::new(
            Opts::new(
                "sfnlite_requests_total",
                "API requests by operation and outcome (ok or the error code)",
            ),
            &["operation", "outcome"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "sfnlite_request_duration_seconds",
                "API request latency by operation",
            )
            .buckets(vec![
                0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                1.0, 2.5,
            ]),
            &["operation"],
        )
        .expect("valid metric");
        let database_bytes = IntGauge::new(
            "sfnlite_database_bytes",
            "Size of the database in use (the SQLite file, or the PostgreSQL database)",
        )
        .expect("valid metric");
        let versions = IntGauge::new(
            "sfnlite_versions_stored",
            "State machine versions stored, all accounts and regions",
        )
        .expect("valid metric");
        let lost_conflicts = IntGauge::new(
            "sfnlite_lost_conflicts_total",
            "Transaction attempts that lost a serialization conflict or deadlock to another \
             (PostgreSQL; each ran again or answered 503)",
        )
        .expect("valid metric");
        for c in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(database_bytes.clone()),
            Box::new(versions.clone()),
            Box::new(lost_conflicts.clone()),
        ] {
            registry.register(c).expect("metric names are unique");
        }
        Metrics {
            registry,
            requests,
            latency,
            database_bytes,
            versions,
            lost_conflicts,
        }
    }

    /// Counts one API request.
    pub fn observe(&self, operation: &str, outcome: &str, seconds: f64) {
        self.requests.with_label_values(&[operation, outcome]).inc();
        self.latency
            .with_label_values(&[operation])
            .observe(seconds);
    }

    /// Renders every metric, with the storage gauges set to the given figures.
    pub fn render(&self, f: &StorageFigures) -> Vec<u8> {
        self.database_bytes.set(f.database_bytes);
        self.versions.set(f.versions_stored);
        self.lost_conflicts
            .set(i64::try_from(f.lost_conflicts).unwrap_or(i64::MAX));
        let mut out = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}
