//! The caller's account, region and partition (aws-behavior.md §13.2 item 10). Every ARN sfnlite
//! mints and every lookup it makes goes through a [`Scope`], so tenants never see each other.

use super::arn::{partition_of, MachineArn};

/// Who is calling and where: taken from each request's SigV4 credential scope.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    pub partition: String,
    pub region: String,
    pub account: String,
}

impl Scope {
    pub fn new(region: &str, account: &str) -> Self {
        Scope {
            partition: partition_of(region).to_owned(),
            region: region.to_owned(),
            account: account.to_owned(),
        }
    }

    /// The ARN of this caller's state machine `name`.
    pub fn machine_arn(&self, name: &str) -> MachineArn {
        MachineArn {
            partition: self.partition.clone(),
            region: self.region.clone(),
            account: self.account.clone(),
            name: name.to_owned(),
        }
    }

    /// Whether `arn` lives in this caller's partition, region and account. An ARN outside
    /// the scope must behave exactly like one that does not exist.
    pub fn owns(&self, arn: &MachineArn) -> bool {
        arn.partition == self.partition && arn.region == self.region && arn.account == self.account
    }

    pub fn activity_arn(&self, name: &str) -> super::arn::ActivityArn {
        super::arn::ActivityArn {
            partition: self.partition.clone(),
            region: self.region.clone(),
            account: self.account.clone(),
            name: name.to_owned(),
        }
    }

    /// Whether an activity ARN is in this scope.
    pub fn owns_activity(&self, arn: &super::arn::ActivityArn) -> bool {
        arn.partition == self.partition && arn.region == self.region && arn.account == self.account
    }

    /// A stable text naming this scope, used to bind pagination tokens.
    pub fn key(&self) -> String {
        format!("{}/{}/{}", self.partition, self.region, self.account)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_account_or_region_is_not_owned() {
        let a = Scope::new("us-east-1", "111111111111");
        let arn = a.machine_arn("m");
        assert!(a.owns(&arn));
        assert!(!Scope::new("us-east-1", "222222222222").owns(&arn));
        assert!(!Scope::new("eu-west-1", "111111111111").owns(&arn));
    }
}
