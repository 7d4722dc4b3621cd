//! The one parser for state machine, version and alias ARNs. Every operation goes through
//! [`parse_state_machine_arn`], so all of them tell the three kinds apart the same way:
//! `…:stateMachine:NAME` (machine), `…:stateMachine:NAME:7` (version),
//! `…:stateMachine:NAME:prod` (alias; alias names always hold a non-digit).

use std::fmt;

use super::names::{is_valid_alias_name, is_valid_machine_name};
use super::records::VersionNumber;

/// Why a string is not an ARN sfnlite accepts. The text is the reason inside AWS's
/// `Invalid Arn: '<reason>'` framing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArnError(pub String);

impl fmt::Display for ArnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The unqualified ARN of a state machine: `arn:<partition>:states:<region>:<account>:stateMachine:<name>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MachineArn {
    pub partition: String,
    pub region: String,
    pub account: String,
    pub name: String,
}

impl MachineArn {
    /// The version ARN `<machine>:<number>`.
    pub fn version(&self, number: VersionNumber) -> String {
        format!("{self}:{number}")
    }

    /// The alias ARN `<machine>:<alias>`.
    pub fn alias(&self, alias: &str) -> String {
        format!("{self}:{alias}")
    }
}

impl fmt::Display for MachineArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:states:{}:{}:stateMachine:{}",
            self.partition, self.region, self.account, self.name
        )
    }
}

/// What a well-formed `stateMachine` ARN names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateMachineRef {
    Machine(MachineArn),
    Version(MachineArn, VersionNumber),
    Alias(MachineArn, String),
}

impl StateMachineRef {
    pub fn machine(&self) -> &MachineArn {
        match self {
            StateMachineRef::Machine(m)
            | StateMachineRef::Version(m, _)
            | StateMachineRef::Alias(m, _) => m,
        }
    }
}

/// The fields every Step Functions ARN shares, and what follows the resource type.
struct Parts<'a> {
    partition: &'a str,
    region: &'a str,
    account: &'a str,
    kind: &'a str,
    resource: Vec<&'a str>,
}

/// Splits `arn:<partition>:states:<region>:<account>:<type>:…`; `invalid` is the error of any
/// shape problem after the prefix.
fn split<'a>(value: &'a str, invalid: &dyn Fn() -> ArnError) -> Result<Parts<'a>, ArnError> {
    let Some(rest) = value.strip_prefix("arn:") else {
        return Err(ArnError(format!("Invalid ARN prefix: {value}")));
    };
    let parts: Vec<&str> = rest.split(':').collect();
    if parts.len() < 6 {
        return Err(invalid());
    }
    let (partition, service, region, account) = (parts[0], parts[1], parts[2], parts[3]);
    if !is_partition(partition) || service != "states" || !is_region(region) || !is_account(account)
    {
        return Err(invalid());
    }
    Ok(Parts {
        partition,
        region,
        account,
        kind: parts[4],
        resource: parts[5..].to_vec(),
    })
}

impl Parts<'_> {
    fn machine(&self, name: &str) -> MachineArn {
        MachineArn {
            partition: self.partition.to_owned(),
            region: self.region.to_owned(),
            account: self.account.to_owned(),
            name: name.to_owned(),
        }
    }
}

/// Parses any state machine, version or alias ARN.
///
/// A value not starting with `arn:` fails with `Invalid ARN prefix: <value>`; any other shape
/// problem (service, resource type, region, account, empty or invalid name, bad qualifier)
/// with `Invalid ARN: <value>` (aws-behavior.md §13.2 item 9).
pub fn parse_state_machine_arn(value: &str) -> Result<StateMachineRef, ArnError> {
    let invalid = || ArnError(format!("Invalid ARN: {value}"));
    let p = split(value, &invalid)?;
    // name [, qualifier]
    if p.kind != "stateMachine" || p.resource.len() > 2 || !is_valid_machine_name(p.resource[0]) {
        return Err(invalid());
    }
    let machine = p.machine(p.resource[0]);
    match p.resource.get(1) {
        None => Ok(StateMachineRef::Machine(machine)),
        Some(q) if !q.is_empty() && q.bytes().all(|b| b.is_ascii_digit()) => {
            // Versions are numbered from 1 and a quota caps them far below i64; anything
            // that does not fit cannot name a version.
            let n: i64 = q.parse().map_err(|_| invalid())?;
            Ok(StateMachineRef::Version(machine, VersionNumber(n)))
        }
        Some(q) if is_valid_alias_name(q) => Ok(StateMachineRef::Alias(machine, (*q).to_owned())),
        Some(_) => Err(invalid()),
    }
}

/// The ARN of a STANDARD execution: `arn:<partition>:states:<region>:<account>:execution:<machine name>:<execution name>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExecutionArn {
    pub machine: MachineArn,
    pub name: String,
}

impl fmt::Display for ExecutionArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = &self.machine;
        write!(
            f,
            "arn:{}:states:{}:{}:execution:{}:{}",
            m.partition, m.region, m.account, m.name, self.name
        )
    }
}

/// The resource types of Step Functions ARNs that name something other than an execution.
const OTHER_RESOURCE_TYPES: &[&str] = &["stateMachine", "express", "activity", "mapRun"];

/// Parses an execution ARN. Another Step Functions resource (an express execution, a state
/// machine) fails with `Resource type not valid in this context: <type>`, as AWS answers
/// for express executions (executions-api.md §2.2); other shapes as machine ARNs do.
pub fn parse_execution_arn(value: &str) -> Result<ExecutionArn, ArnError> {
    let invalid = || ArnError(format!("Invalid ARN: {value}"));
    let p = split(value, &invalid)?;
    if OTHER_RESOURCE_TYPES.contains(&p.kind) {
        return Err(ArnError(format!(
            "Resource type not valid in this context: {}",
            p.kind
        )));
    }
    match p.resource.as_slice() {
        [machine, name]
            if p.kind == "execution"
                && is_valid_run_machine(machine)
                && is_valid_machine_name(name) =>
        {
            Ok(ExecutionArn {
                machine: p.machine(machine),
                name: (*name).to_owned(),
            })
        }
        _ => Err(invalid()),
    }
}

/// A machine name as execution and map run ARNs carry it: the machine's, or for a map run's
/// children `<machine>/<label>` (nested runs add a label each).
fn is_valid_run_machine(name: &str) -> bool {
    name.split('/').all(is_valid_machine_name)
}

/// Parses the ARN of a map run's EXPRESS child,
/// `arn:<p>:states:<r>:<a>:express:<machine>/<label>:<name>:<id>`; only children are stored,
/// so only their form is accepted.
pub fn parse_express_child_arn(value: &str) -> Option<ExecutionArn> {
    let p = split(value, &|| ArnError(String::new())).ok()?;
    match p.resource.as_slice() {
        [machine, name, _id]
            if p.kind == "express" && machine.contains('/') && is_valid_run_machine(machine) =>
        {
            Some(ExecutionArn {
                machine: p.machine(machine),
                name: (*name).to_owned(),
            })
        }
        _ => None,
    }
}

/// A map run's ARN: `arn:<p>:states:<r>:<a>:mapRun:<machine>/<label>:<id>`; `machine` is the
/// ARN of the machine whose execution started it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapRunArn {
    pub machine: MachineArn,
}

/// Parses a map run ARN; other Step Functions resources fail with `Resource type not valid in
/// this context: <type>`, other shapes as machine ARNs do.
pub fn parse_map_run_arn(value: &str) -> Result<MapRunArn, ArnError> {
    let invalid = || ArnError(format!("Invalid ARN: {value}"));
    let p = split(value, &invalid)?;
    if p.kind != "mapRun" && ["stateMachine", "express", "execution", "activity"].contains(&p.kind)
    {
        return Err(ArnError(format!(
            "Resource type not valid in this context: {}",
            p.kind
        )));
    }
    match p.resource.as_slice() {
        [run, _id] if p.kind == "mapRun" && run.contains('/') && is_valid_run_machine(run) => {
            let machine = run.split('/').next().unwrap_or_default();
            Ok(MapRunArn {
                machine: p.machine(machine),
            })
        }
        _ => Err(invalid()),
    }
}

/// The ARN of an activity: `arn:<partition>:states:<region>:<account>:activity:<name>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ActivityArn {
    pub partition: String,
    pub region: String,
    pub account: String,
    pub name: String,
}

impl fmt::Display for ActivityArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:states:{}:{}:activity:{}",
            self.partition, self.region, self.account, self.name
        )
    }
}

/// Parses an activity ARN; other Step Functions resources fail with `Resource type not
/// valid in this context: <type>`, other shapes as machine ARNs do.
pub fn parse_activity_arn(value: &str) -> Result<ActivityArn, ArnError> {
    let invalid = || ArnError(format!("Invalid ARN: {value}"));
    let p = split(value, &invalid)?;
    if p.kind != "activity" && ["stateMachine", "express", "execution", "mapRun"].contains(&p.kind)
    {
        return Err(ArnError(format!(
            "Resource type not valid in this context: {}",
            p.kind
        )));
    }
    match p.resource.as_slice() {
        [name] if p.kind == "activity" && is_valid_machine_name(name) => Ok(ActivityArn {
            partition: p.partition.to_owned(),
            region: p.region.to_owned(),
            account: p.account.to_owned(),
            name: (*name).to_owned(),
        }),
        _ => Err(invalid()),
    }
}

/// The partitions and the regions each owns, as the AWS SDKs ship them (botocore's
/// `partitions.json`, `regionRegex`). A region that matches none belongs to `aws`, as the
/// SDKs resolve it.
const PARTITIONS: &[(&str, &str)] = &[
    ("aws", r"^(us|eu|ap|sa|ca|me|af|il|mx)\-\w+\-\d+$"),
    ("aws-cn", r"^cn\-\w+\-\d+$"),
    ("aws-eusc", r"^eusc\-(de)\-\w+\-\d+$"),
    ("aws-iso", r"^us\-iso\-\w+\-\d+$"),
    ("aws-iso-b", r"^us\-isob\-\w+\-\d+$"),
    ("aws-iso-e", r"^eu\-isoe\-\w+\-\d+$"),
    ("aws-iso-f", r"^us\-isof\-\w+\-\d+$"),
    ("aws-us-gov", r"^us\-gov\-\w+\-\d+$"),
];

static PARTITION_REGEXES: std::sync::LazyLock<Vec<(&'static str, regex::Regex)>> =
    std::sync::LazyLock::new(|| {
        PARTITIONS
            .iter()
            .map(|(p, re)| {
                (
                    *p,
                    regex::Regex::new(re).expect("the partition table is valid"),
                )
            })
            .collect()
    });

/// Whether `p` names a partition the SDKs know.
pub fn is_partition(p: &str) -> bool {
    PARTITIONS.iter().any(|(name, _)| *name == p)
}

/// Whether `arn` is an IAM role ARN: `arn:<partition>:iam::<12-digit account>:role/<path/name>`
/// (IAM's name characters; a path is slash-separated).
pub fn is_role_arn(arn: &str) -> bool {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("iam"), Some(""), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    let Some(path_and_name) = resource.strip_prefix("role/") else {
        return false;
    };
    let name = path_and_name.rsplit('/').next().unwrap_or("");
    is_partition(partition)
        && is_account(account)
        && !name.is_empty()
        && name.len() <= 64
        && path_and_name.len() <= 576
        && path_and_name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-/".contains(&b))
}

/// Region names look like `us-east-1`, `ap-southeast-2`, `us-gov-west-1`.
pub fn is_region(r: &str) -> bool {
    let segs: Vec<&str> = r.split('-').collect();
    segs.len() >= 3
        && segs[..segs.len() - 1]
            .iter()
            .all(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase()))
        && segs[segs.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !segs[segs.len() - 1].is_empty()
        && r.len() <= 32
}

/// AWS account ids are exactly twelve digits.
pub fn is_account(a: &str) -> bool {
    a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit())
}

/// The partition that owns a region.
pub fn partition_of(region: &str) -> &'static str {
    // Every request asks, nearly always for the same region or two: remember the last
    // answer per thread rather than run the patterns each time.
    thread_local! {
        static LAST: std::cell::RefCell<(String, &'static str)> =
            const { std::cell::RefCell::new((String::new(), "aws")) };
    }
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if last.0 != region || last.0.is_empty() {
            let partition = PARTITION_REGEXES
                .iter()
                .find(|(_, re)| re.is_match(region))
                .map_or("aws", |(p, _)| *p);
            *last = (region.to_owned(), partition);
        }
        last.1
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SM: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:demo";

    #[test]
    fn unqualified_version_and_alias_arns_are_told_apart() {
        assert!(
            matches!(parse_state_machine_arn(SM), Ok(StateMachineRef::Machine(m)) if m.name == "demo")
        );
        assert!(matches!(
            parse_state_machine_arn(&format!("{SM}:7")),
            Ok(StateMachineRef::Version(_, VersionNumber(7)))
        ));
        assert!(
            matches!(parse_state_machine_arn(&format!("{SM}:prod")), Ok(StateMachineRef::Alias(_, a)) if a == "prod")
        );
    }

    #[test]
    fn machine_arn_round_trips_through_display() {
        let m = parse_state_machine_arn(SM).unwrap();
        assert_eq!(m.machine().to_string(), SM);
        assert_eq!(m.machine().version(VersionNumber(3)), format!("{SM}:3"));
    }

    #[test]
    fn value_without_arn_prefix_names_the_prefix() {
        assert_eq!(
            parse_state_machine_arn("invalid_arn").unwrap_err().0,
            "Invalid ARN prefix: invalid_arn"
        );
    }

    #[test]
    fn malformed_arns_are_rejected() {
        for bad in [
            "arn:aws:lambda:us-east-1:123456789012:stateMachine:demo",
            "arn:aws:states:us-east-1:12345:stateMachine:demo",
            "arn:aws:states:useast:123456789012:stateMachine:demo",
            "arn:aws:states:us-east-1:123456789012:activity:demo",
            "arn:aws:states:us-east-1:123456789012:stateMachine:",
            "arn:aws:states:us-east-1:123456789012:stateMachine:demo:",
            "arn:aws:states:us-east-1:123456789012:stateMachine:demo:a b",
            "arn:aws:states:us-east-1:123456789012:stateMachine:demo:1:2",
            "arn:aws:states:us-east-1:123456789012:stateMachine:demo:99999999999999999999999",
            "arn:foo:states:us-east-1:123456789012:stateMachine:demo",
        ] {
            assert_eq!(
                parse_state_machine_arn(bad).unwrap_err().0,
                format!("Invalid ARN: {bad}"),
                "{bad}"
            );
        }
    }

    #[test]
    fn execution_arns_name_their_machine_and_refuse_other_resource_types() {
        let e = parse_execution_arn("arn:aws:states:us-east-1:123456789012:execution:demo:run-1.x")
            .unwrap();
        assert_eq!(e.machine.to_string(), SM);
        assert_eq!(e.name, "run-1.x");
        assert_eq!(
            e.to_string(),
            "arn:aws:states:us-east-1:123456789012:execution:demo:run-1.x"
        );
        assert_eq!(
            parse_execution_arn("arn:aws:states:us-east-1:123456789012:express:demo:n:id")
                .unwrap_err()
                .0,
            "Resource type not valid in this context: express"
        );
        assert_eq!(
            parse_execution_arn(SM).unwrap_err().0,
            "Resource type not valid in this context: stateMachine"
        );
        assert_eq!(
            parse_execution_arn("nope").unwrap_err().0,
            "Invalid ARN prefix: nope"
        );
        for bad in [
            "arn:aws:states:us-east-1:123456789012:execution:demo",
            "arn:aws:states:us-east-1:123456789012:execution:demo:a:b",
            "arn:aws:states:us-east-1:123456789012:execution:demo:a b",
            "arn:aws:lambda:us-east-1:123456789012:execution:demo:a",
        ] {
            assert_eq!(
                parse_execution_arn(bad).unwrap_err().0,
                format!("Invalid ARN: {bad}")
            );
        }
    }

    #[test]
    fn only_iam_role_arns_are_role_arns() {
        for good in [
            "arn:aws:iam::123456789012:role/StepFunctionsRole",
            "arn:aws:iam::123456789012:role/service-role/path/My.Role@x",
            "arn:aws-cn:iam::123456789012:role/r",
        ] {
            assert!(is_role_arn(good), "{good}");
        }
        for bad in [
            "arn:aws:iam::123456789012:policy/P",
            "arn:aws:s3:::bucket",
            "arn:aws:iam::1234:role/r",
            "arn:aws:iam:us-east-1:123456789012:role/r",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:iam::123456789012:role/a b",
            "arn:nope:iam::123456789012:role/r",
            "not-an-arn",
        ] {
            assert!(!is_role_arn(bad), "{bad}");
        }
    }

    #[test]
    fn partition_follows_region_as_the_sdks_resolve_it() {
        for (region, partition) in [
            ("cn-north-1", "aws-cn"),
            ("us-gov-west-1", "aws-us-gov"),
            ("eu-west-1", "aws"),
            ("us-east-1", "aws"),
            ("us-iso-east-1", "aws-iso"),
            ("us-isob-east-1", "aws-iso-b"),
            ("eu-isoe-west-1", "aws-iso-e"),
            ("us-isof-south-1", "aws-iso-f"),
            ("eusc-de-east-1", "aws-eusc"),
            ("xx-nowhere-1", "aws"),
        ] {
            assert_eq!(partition_of(region), partition, "{region}");
        }
    }
}
