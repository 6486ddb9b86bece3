from lms.platform.roles import Role
from tests.factories import make_member, make_school


def test_school_leader_signs_in_and_sees_their_school(db_session, sign_in):
    school = make_school(name="Aldbrook Primary")
    leader = make_member(Role.SCHOOL_LEADER, school=school)
    db_session.commit()
    client = sign_in(leader)
    page = client.get("/").get_data(as_text=True)
    assert "Aldbrook Primary" in page
