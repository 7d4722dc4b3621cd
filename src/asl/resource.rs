//! What a Task's `Resource` names: a Lambda function, an activity, an optimised service
//! integration (`arn:aws:states:::sqs:sendMessage`, with `.sync`, `.sync:2` or
//! `.waitForTaskToken`), or any AWS API through `arn:aws:states:::aws-sdk:<service>:<action>`.
//! Anything else is refused at creation as AWS does.

/// How a Task waits for its work (the "service integration pattern").
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Pattern {
    /// Request/response: done when the call returns.
    RequestResponse,
    /// `.sync`: done when the job finishes; output as the service gives it.
    Sync,
    /// `.sync:2`: like `.sync`, output parsed as JSON.
    Sync2,
    /// `.waitForTaskToken`: done when a task token comes back.
    WaitForTaskToken,
}

/// A recognised resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// `arn:<p>:lambda:<region>:<account>:function:<name>[:<qualifier>]`, invoked directly.
    LambdaFunction(String),
    /// `arn:<p>:states:<region>:<account>:activity:<name>`.
    Activity(String),
    /// `arn:<p>:states:::<service>:<action>[.pattern]`.
    Service {
        arn: String,
        service: String,
        action: String,
        pattern: Pattern,
    },
    /// `arn:<p>:states:::aws-sdk:<service>:<action>[.pattern]`.
    Sdk {
        arn: String,
        service: String,
        action: String,
        pattern: Pattern,
    },
}

impl Resource {
    pub fn pattern(&self) -> Pattern {
        match self {
            Resource::Service { pattern, .. } | Resource::Sdk { pattern, .. } => *pattern,
            Resource::LambdaFunction(_) | Resource::Activity(_) => Pattern::RequestResponse,
        }
    }

    /// The parameters an optimised integration takes, where AWS drops the others before
    /// scheduling the task (recorded for `sqs:sendMessage`: an unsupported member is absent
    /// from `TaskScheduled.parameters` and from the call). `None`: all are passed on.
    pub fn supported_parameters(&self) -> Option<&'static [&'static str]> {
        match self {
            Resource::Service {
                service, action, ..
            } if service == "sqs" && action == "sendMessage" => Some(&[
                "QueueUrl",
                "MessageBody",
                "DelaySeconds",
                "MessageAttributes",
                "MessageDeduplicationId",
                "MessageGroupId",
            ]),
            _ => None,
        }
    }
}

/// The optimised integrations AWS offers, by service, with their actions.
const OPTIMISED: &[(&str, &[&str])] = &[
    ("lambda", &["invoke"]),
    ("sns", &["publish"]),
    ("sqs", &["sendMessage"]),
    (
        "dynamodb",
        &["getItem", "putItem", "updateItem", "deleteItem"],
    ),
    ("states", &["startExecution"]),
    ("events", &["putEvents"]),
    ("ecs", &["runTask"]),
    ("batch", &["submitJob"]),
    ("glue", &["startJobRun"]),
    ("glue-databrew", &["startJobRun"]),
    (
        "athena",
        &[
            "startQueryExecution",
            "stopQueryExecution",
            "getQueryExecution",
            "getQueryResults",
        ],
    ),
    (
        "codebuild",
        &[
            "startBuild",
            "stopBuild",
            "batchDeleteBuilds",
            "batchGetReports",
            "startBuildBatch",
            "stopBuildBatch",
            "retryBuild",
            "retryBuildBatch",
            "batchDeleteBuildBatches",
            "batchGetBuildBatches",
        ],
    ),
    ("apigateway", &["invoke"]),
    ("http", &["invoke"]),
    (
        "eks",
        &[
            "createCluster",
            "deleteCluster",
            "createFargateProfile",
            "deleteFargateProfile",
            "createNodegroup",
            "deleteNodegroup",
            "runJob",
            "call",
        ],
    ),
    (
        "elasticmapreduce",
        &[
            "createCluster",
            "terminateCluster",
            "addStep",
            "cancelStep",
            "setClusterTerminationProtection",
            "modifyInstanceFleetByName",
            "modifyInstanceGroupByName",
        ],
    ),
    (
        "emr-containers",
        &[
            "startJobRun",
            "createVirtualCluster",
            "deleteVirtualCluster",
        ],
    ),
    (
        "emr-serverless",
        &[
            "createApplication",
            "startApplication",
            "stopApplication",
            "deleteApplication",
            "startJobRun",
            "cancelJobRun",
        ],
    ),
    (
        "sagemaker",
        &[
            "createTrainingJob",
            "createTransformJob",
            "createHyperParameterTuningJob",
            "createProcessingJob",
            "createLabelingJob",
            "createModel",
            "createEndpointConfig",
            "createEndpoint",
            "updateEndpoint",
        ],
    ),
    ("bedrock", &["invokeModel", "createModelCustomizationJob"]),
    ("mediaconvert", &["createJob"]),
];

/// AWS's words for a resource it does not know.
pub fn not_recognized(arn: &str) -> String {
    format!(
        "The resource provided {arn} is not recognized. The value is not a valid resource ARN, or the resource is not available in this region."
    )
}

fn is_partition(p: &str) -> bool {
    crate::domain::arn::is_partition(p)
}

fn split_pattern(action: &str) -> Option<(&str, Pattern)> {
    Some(match action.split_once('.') {
        None => (action, Pattern::RequestResponse),
        Some((a, "sync")) => (a, Pattern::Sync),
        Some((a, "sync:2")) => (a, Pattern::Sync2),
        Some((a, "waitForTaskToken")) => (a, Pattern::WaitForTaskToken),
        Some(_) => return None,
    })
}

fn word(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Parses a Task `Resource`; `None` when AWS would not recognise it.
pub fn parse(arn: &str) -> Option<Resource> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() < 6 || parts[0] != "arn" || !is_partition(parts[1]) {
        return None;
    }
    let (service, region, account, rest) = (parts[2], parts[3], parts[4], parts[5]);
    let regional = crate::domain::arn::is_region(region) && crate::domain::arn::is_account(account);
    match service {
        "lambda" if regional => {
            let name = rest.strip_prefix("function:")?;
            let (name, qualifier) = match name.split_once(':') {
                Some((n, q)) => (n, Some(q)),
                None => (name, None),
            };
            let ok = word(&name.replace('_', "-"))
                && qualifier.is_none_or(|q| word(&q.replace(['_', '$'], "-")));
            ok.then(|| Resource::LambdaFunction(arn.to_owned()))
        }
        "states" if regional => {
            let name = rest.strip_prefix("activity:")?;
            (!name.is_empty() && name.len() <= 80).then(|| Resource::Activity(arn.to_owned()))
        }
        "states" if region.is_empty() && account.is_empty() => {
            let (integration, action) = rest.split_once(':')?;
            if integration == "aws-sdk" {
                let (sdk_service, action) = action.split_once(':')?;
                let (action, pattern) = split_pattern(action)?;
                let ok = word(sdk_service) && word(action);
                return ok.then(|| Resource::Sdk {
                    arn: arn.to_owned(),
                    service: sdk_service.to_owned(),
                    action: action.to_owned(),
                    pattern,
                });
            }
            let (action, pattern) = split_pattern(action)?;
            let (_, actions) = OPTIMISED.iter().find(|(s, _)| *s == integration)?;
            actions.contains(&action).then(|| Resource::Service {
                arn: arn.to_owned(),
                service: integration.to_owned(),
                action: action.to_owned(),
                pattern,
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_resource_form_is_recognised() {
        assert!(matches!(
            parse("arn:aws:lambda:us-east-1:123456789012:function:f"),
            Some(Resource::LambdaFunction(_))
        ));
        assert!(matches!(
            parse("arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST"),
            Some(Resource::LambdaFunction(_))
        ));
        assert!(matches!(
            parse("arn:aws:states:us-east-1:123456789012:activity:work"),
            Some(Resource::Activity(_))
        ));
        assert_eq!(
            parse("arn:aws:states:::sqs:sendMessage.waitForTaskToken").map(|r| r.pattern()),
            Some(Pattern::WaitForTaskToken)
        );
        assert_eq!(
            parse("arn:aws:states:::states:startExecution.sync:2").map(|r| r.pattern()),
            Some(Pattern::Sync2)
        );
        assert!(matches!(
            parse("arn:aws:states:::aws-sdk:s3:listBuckets"),
            Some(Resource::Sdk { .. })
        ));
        assert!(parse("arn:aws-us-gov:states:::lambda:invoke").is_some());
    }

    #[test]
    fn unknown_integrations_and_malformed_arns_are_not_recognised() {
        for bad in [
            "arn:aws:states:::dynamodb:query",
            "arn:aws:states:::sqs:sendMessage.later",
            "arn:aws:states:::nosuch:thing",
            "arn:aws:lambda:us-east-1:123456789012:layer:x",
            "arn:aws:s3:::bucket",
            "not-an-arn",
            "arn:aws:states:::aws-sdk:s3",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
