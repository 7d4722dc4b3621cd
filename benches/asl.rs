//! How long validation takes: `cargo bench --bench asl`. The largest definition of the
//! corpus must validate in well under a millisecond, so CreateStateMachine and
//! UpdateStateMachine throughput does not depend on the validator; a 1,000-state machine
//! shows how the cost grows.

use criterion::{criterion_group, criterion_main, Criterion};
use sfnlite::asl::{self, Flavor};

fn largest_corpus_definition() -> (String, String) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/asl/valid");
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                text,
            )
        })
        .max_by_key(|(_, text)| text.len())
        .unwrap()
}

fn chain(states: usize) -> String {
    let mut s = String::from(r#"{"StartAt":"S0","States":{"#);
    for i in 0..states {
        s.push_str(&format!(
            r#""S{i}":{{"Type":"Pass","Parameters":{{"n.$":"States.Format('{{}}', $.x)"}},"Next":"S{}"}},"#,
            i + 1
        ));
    }
    s.push_str(&format!(r#""S{states}":{{"Type":"Succeed"}}}}}}"#));
    s
}

fn benches(c: &mut Criterion) {
    let (name, largest) = largest_corpus_definition();
    assert!(asl::parse(&largest, Flavor::default()).is_ok());
    c.bench_function(
        &format!(
            "validate largest corpus definition ({name}, {} bytes)",
            largest.len()
        ),
        |b| b.iter(|| asl::parse(std::hint::black_box(&largest), Flavor::default())),
    );
    let big = chain(1000);
    c.bench_function("validate a 1000-state machine", |b| {
        b.iter(|| asl::parse(std::hint::black_box(&big), Flavor::default()))
    });
}

criterion_group!(all, benches);
criterion_main!(all);
