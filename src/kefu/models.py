"""Every domain's tables, imported in one place so Alembic and ``create_all`` see them all."""

from kefu.accounts.models import LoginThrottle, User, UserSession  # noqa: F401
from kefu.calls.models import CallRecord  # noqa: F401
from kefu.core.audit import AuditEntry
from kefu.customers.models import Customer
from kefu.jobs.models import Job  # noqa: F401
from kefu.knowledge.models import Article, ArticleVersion, ReaderVisit  # noqa: F401
from kefu.performance.models import (  # noqa: F401
    AgentEvaluation,
    Attendance,
    BusinessError,
    CoachingPlan,
    EvaluationComment,
    PublishedMonth,
    Sale,
    Survey,
)
from kefu.quality.models import (  # noqa: F401
    Appeal,
    CalibrationSession,
    Finding,
    Inspection,
    Review,
    RulebookVersion,
    SamplingPlan,
    SamplingRun,
)
from kefu.training.models import Practical, PracticeAssignment, Question, RolePlay, Sitting, Trainee  # noqa: F401
from kefu.workforce.models import (  # noqa: F401
    Assignment,
    LeaveRequest,
    Notice,
    Roster,
    RosterRevision,
    SwapRequest,
)
from kefu.workorders.models import WorkOrder, WorkOrderCounter, WorkOrderEvent  # noqa: F401

__all__ = ["AuditEntry", "Customer", "User"]
