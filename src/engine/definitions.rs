//! Parsed definitions, shared by the runner and StartExecution: a revision is parsed once
//! and kept while its text is the same. A revision key alone is never trusted — SQLite
//! reuses a deleted machine's last revision key — so every lookup brings the stored text.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::asl::{self, Definition};
use crate::domain::records::{RevisionKey, Snapshot};

/// Parsed definitions kept at most; beyond, the cache starts over.
const MAX_DEFINITIONS: usize = 1024;

/// A parsed revision: its definition and the role executions of it run as, with the text
/// it was parsed from.
#[derive(Debug)]
pub struct Loaded {
    text: String,
    pub definition: Definition,
    pub role_arn: String,
    /// The activities its Task states name.
    pub activities: Vec<String>,
    /// What the children of each Distributed Map state run, by the Map state's name (state
    /// names are unique in a definition): its ItemProcessor as a definition of its own.
    pub processors: HashMap<String, Definition>,
}

/// The ItemProcessors of the Distributed Map states in `scope` and the scopes within it.
fn processors(scope: &asl::model::Scope, out: &mut HashMap<String, Definition>) {
    for state in &scope.states {
        match &state.kind {
            asl::model::StateKind::Map(m) => {
                if m.processor
                    .processor
                    .as_ref()
                    .is_some_and(|p| p.distributed)
                {
                    out.insert(
                        state.name.clone(),
                        Definition {
                            comment: None,
                            version: None,
                            timeout_seconds: None,
                            query_language: state.query_language,
                            machine: m.processor.clone(),
                        },
                    );
                }
                processors(&m.processor, out);
            }
            asl::model::StateKind::Parallel(p) => {
                for b in &p.branches {
                    processors(b, out);
                }
            }
            _ => {}
        }
    }
}

/// The cache.
#[derive(Debug, Default)]
pub struct Definitions(Mutex<HashMap<RevisionKey, Arc<Loaded>>>);

impl Definitions {
    /// The parsed revision `key` with this snapshot; parses it unless the cache holds the
    /// same text. Fails only if a stored definition no longer parses (a bug).
    pub fn load(&self, key: RevisionKey, snapshot: &Snapshot) -> Result<Arc<Loaded>, String> {
        {
            let cache = self.0.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(l) = cache
                .get(&key)
                .filter(|l| l.text == snapshot.definition && l.role_arn == snapshot.role_arn)
            {
                return Ok(l.clone());
            }
        }
        // A revision was valid when it was stored, the kind's extra rules included.
        let definition = asl::parse(&snapshot.definition, asl::Flavor::default())
            .map_err(|e| format!("revision {key} no longer parses: {e:?}"))?;
        let mut found = HashMap::new();
        processors(&definition.machine, &mut found);
        let loaded = Arc::new(Loaded {
            text: snapshot.definition.clone(),
            processors: found,
            activities: asl::references::activity_resources(&definition),
            definition,
            role_arn: snapshot.role_arn.clone(),
        });
        let mut cache = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= MAX_DEFINITIONS {
            cache.clear();
        }
        cache.insert(key, loaded.clone());
        Ok(loaded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(definition: &str) -> Snapshot {
        Snapshot {
            definition: definition.into(),
            role_arn: "arn:aws:iam::123456789012:role/r".into(),
            logging: "{}".into(),
            tracing: "{}".into(),
            encryption: "{}".into(),
        }
    }

    #[test]
    fn a_reused_revision_key_with_another_text_is_parsed_again() {
        let d = Definitions::default();
        let a = snapshot(r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#);
        let b = snapshot(r#"{"StartAt":"B","States":{"B":{"Type":"Succeed"}}}"#);
        let first = d.load(RevisionKey(7), &a).unwrap();
        assert!(Arc::ptr_eq(&first, &d.load(RevisionKey(7), &a).unwrap()));
        let second = d.load(RevisionKey(7), &b).unwrap();
        assert_eq!(second.definition.machine.start_at, "B");
    }
}
