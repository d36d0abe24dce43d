"""The company that owes and its case, shared by the tests of the notice pipeline on real workers."""

from decimal import Decimal

import pytest

from tests.factories import EnforcementCaseFactory, PartyFactory
from tests.support.platforms import COMPANY_USCC


@pytest.fixture
def company(db):
    return PartyFactory(entity=True, name="湘潭鲜享家网络科技有限公司", uscc=COMPANY_USCC)


@pytest.fixture
def case(cast, company):
    return EnforcementCaseFactory(
        court=cast.courts.yuhu, judges=[cast.assigned], parties__respondents=[company], amount_due=Decimal("9000000.00")
    )
