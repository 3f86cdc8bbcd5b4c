"""Seed the shared vocabularies and the MPOS-style quality criteria every installation starts
with; admins may edit or extend them afterwards."""

from django.db import migrations

GRADE_BANDS = [
    ("pre-k", "Pre-K"), ("k-2", "Grades K-2"), ("3-5", "Grades 3-5"), ("6-8", "Grades 6-8"),
    ("9-12", "Grades 9-12"), ("k-12", "All grades (K-12)"),
]
SUBJECTS = [
    ("literacy", "Literacy and reading"), ("mathematics", "Mathematics"), ("science", "Science"),
    ("social-studies", "Social studies"), ("arts", "Arts"), ("world-languages", "World languages"),
    ("special-education", "Special education"), ("english-learners", "English learners"),
    ("digital-learning", "Digital learning"), ("leadership", "Leadership and coaching"),
    ("assessment", "Classroom assessment"), ("all-subjects", "All subjects"),
]
CRITERIA = [
    ("discrete-skill", "Discrete, job-embedded skill",
     "The micro-credential names one specific skill an educator uses in daily practice, narrow "
     "enough to demonstrate with evidence from one classroom."),
    ("research-basis", "Research basis",
     "The key method rests on cited research or strong professional consensus."),
    ("evidence-shows-skill", "Evidence that can show the skill",
     "Each evidence part asks for classroom artifacts (video, student work, written answers) "
     "that would let an assessor see the skill, with clear limits."),
    ("defined-rubric", "Rubric with defined criteria",
     "The rubric scores every component with defined details or levels and sets a reachable "
     "passing band."),
    ("standards-alignment", "Alignment to standards",
     "The skill is aligned to professional teaching or leadership standards."),
    ("accessible-language", "Accessible, bias-free language",
     "Instructions use plain, inclusive language and do not assume one kind of school, student "
     "or teacher."),
]


def seed(apps, schema_editor):
    GradeBand = apps.get_model("catalog", "GradeBand")
    Subject = apps.get_model("catalog", "Subject")
    QualityCriterion = apps.get_model("catalog", "QualityCriterion")
    for order, (code, name) in enumerate(GRADE_BANDS):
        GradeBand.objects.get_or_create(code=code, defaults={"name": name, "order": order})
    for code, name in SUBJECTS:
        Subject.objects.get_or_create(code=code, defaults={"name": name})
    for order, (code, title, guidance) in enumerate(CRITERIA):
        QualityCriterion.objects.get_or_create(
            code=code, defaults={"title": title, "guidance": guidance, "order": order}
        )


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
