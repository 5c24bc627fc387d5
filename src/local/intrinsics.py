"""CloudFormation intrinsics resolved to the names and ARNs the local runtime gives resources.

Locally a resource is named after its logical id, whatever name the template gives it deployed
(local.runtime creates the table as `JobsTable`, the bucket as `artifactsbucket`, the state
machine as `Step6StateMachine`, and each function is invoked as its logical id), in the fake
account and the runtime's region. So `!GetAtt JobsTable.Arn` resolves to the ARN the local
calls name, and a policy can be checked against them (tests/privilege).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from local.template import FAKE_ACCOUNT, function_arn

NO_VALUE = object()  # AWS::NoValue: the property or list entry is left out


def local_name(logical_id: str, resource_type: str) -> str:
    """The physical name a resource has locally."""
    if resource_type == "AWS::S3::Bucket":
        return logical_id.lower()  # bucket names are lower case
    return logical_id


@dataclass
class Resolver:
    template: dict[str, Any]
    region: str = "us-east-1"
    account: str = FAKE_ACCOUNT
    parameters: dict[str, str] = field(default_factory=dict)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self.resolve(v) for v in value]
            return [v for v in items if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self.ref(argument)
            if key.startswith("Fn::"):
                return self._function(key, argument)
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}

    def _function(self, key: str, argument: Any) -> Any:
        if key == "Fn::GetAtt":
            logical_id, attribute = (
                argument.split(".", 1) if isinstance(argument, str) else argument
            )
            return self.get_att(logical_id, attribute)
        if key == "Fn::Sub":
            text, variables = (argument, {}) if isinstance(argument, str) else argument
            return self.sub(text, {k: self.resolve(v) for k, v in variables.items()})
        if key == "Fn::Join":
            separator, items = argument
            return separator.join(str(i) for i in self.resolve(items))
        if key == "Fn::Select":
            index, items = argument
            return self.resolve(items)[int(self.resolve(index))]
        if key == "Fn::Split":
            separator, text = argument
            return str(self.resolve(text)).split(separator)
        if key == "Fn::If":
            condition, when_true, when_false = argument
            return self.resolve(when_true if self.condition(condition) else when_false)
        raise ValueError(f"cannot resolve {key} locally")

    def ref(self, name: str) -> Any:
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": "local",
            "AWS::NoValue": NO_VALUE,
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        parameter = self.template.get("Parameters", {}).get(name)
        if parameter is not None:
            return str(parameter.get("Default", ""))
        resource_type = self._type(name)
        if resource_type in ("AWS::StepFunctions::StateMachine", "AWS::SNS::Topic"):
            return self.get_att(name, "Arn")  # their Ref is their ARN
        if resource_type == "AWS::SQS::Queue":
            return f"https://sqs.{self.region}.amazonaws.com/{self.account}/{name}"
        return local_name(name, resource_type)

    def get_att(self, logical_id: str, attribute: str) -> str:
        resource_type = self._type(logical_id)
        name = local_name(logical_id, resource_type)
        region, account = self.region, self.account
        arns = {
            "AWS::Lambda::Function": function_arn(name, region, account),
            "AWS::DynamoDB::Table": f"arn:aws:dynamodb:{region}:{account}:table/{name}",
            "AWS::S3::Bucket": f"arn:aws:s3:::{name}",
            "AWS::SQS::Queue": f"arn:aws:sqs:{region}:{account}:{name}",
            "AWS::SNS::Topic": f"arn:aws:sns:{region}:{account}:{name}",
            "AWS::StepFunctions::StateMachine": (
                f"arn:aws:states:{region}:{account}:stateMachine:{name}"
            ),
            "AWS::Logs::LogGroup": f"arn:aws:logs:{region}:{account}:log-group:{name}:*",
            "AWS::IAM::Role": f"arn:aws:iam::{account}:role/{name}",
            "AWS::Events::Rule": f"arn:aws:events:{region}:{account}:rule/{name}",
            "AWS::KMS::Key": f"arn:aws:kms:{region}:{account}:key/{name}",
        }
        if attribute == "Arn" and resource_type in arns:
            return arns[resource_type]
        if attribute in ("Name", "QueueName", "TopicName"):
            return name
        raise ValueError(f"cannot resolve {logical_id}.{attribute} ({resource_type}) locally")

    def sub(self, text: str, variables: dict[str, Any]) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"  # ${!Literal} stays literal
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return self.get_att(logical_id, attribute)
            return str(self.ref(name))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def condition(self, value: Any) -> bool:
        if isinstance(value, str):  # a named condition
            return self.condition(self.template["Conditions"][value])
        ((key, argument),) = value.items()
        if key == "Condition":
            return self.condition(argument)
        if key == "Fn::Equals":
            left, right = (self.resolve(a) for a in argument)
            return str(left) == str(right)
        if key == "Fn::Not":
            return not self.condition(argument[0])
        if key == "Fn::And":
            return all(self.condition(c) for c in argument)
        if key == "Fn::Or":
            return any(self.condition(c) for c in argument)
        raise ValueError(f"cannot evaluate condition {key} locally")

    def _type(self, logical_id: str) -> str:
        resource = self.template.get("Resources", {}).get(logical_id)
        if resource is None:
            raise ValueError(f"{logical_id} is neither a parameter nor a resource")
        return str(resource["Type"])
