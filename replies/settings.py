"""The `replies:` block of config.yaml: whether a reply waits for a second person's approval, and whose."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ReplyPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    require_approval: bool = Field(
        default=False, description="a reply waits as a draft until an approver (not its author) approves it"
    )
    approvers: list[str] = Field(
        default_factory=lambda: ["admin", "marketer"], description="the roles that approve replies"
    )
