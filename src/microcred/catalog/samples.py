"""The first real catalog entry, "Collaborative Leadership Coaching" (Illinois Principals
Association, seed document 003), as `VersionContent`. It is demo data and the reference fixture
of the test suite: its 20-point rubric and Yes / Almost / Not Yet bands are the shape every other
rubric is checked against."""

from __future__ import annotations

from .content import VersionContent

COACHING_SLUG = "collaborative-leadership-coaching"

_COMPONENT_DETAILS: list[tuple[str, str, list[str]]] = [
    (
        "Engage in a collegial, trusting relationship to address leadership issues or initiatives",
        "Trust is a willingness to be vulnerable to another based on confidence that the other "
        "is benevolent, honest, open, reliable and competent.",
        [
            "Creates a safe environment to discuss issues",
            "Maintains equality through open conversation",
            "Demonstrates support for person being coached",
            "Incorporates four elements of committed listening",
            "Respects knowledge and experience of individuals",
        ],
    ),
    (
        "Communicate collaboratively in an outcomes-based conversation",
        "Committed listening, purposeful paraphrasing and high-level questioning keep the "
        "conversation on a direct path to the goal the leader and coach agreed.",
        [
            "Jointly identifies a need or task requiring the attention of the school leader",
            "Jointly defines the problem or challenge accurately",
            "Jointly defines the desired goal or outcome",
            "Provides motivation and support",
            "Co-develops a plan to monitor progress",
        ],
    ),
    (
        "Provide evidence-based communicative feedback, resources, and support",
        "Feedback is grounded in evidence the leader can see, names what is working, and offers "
        "concrete next actions and resources.",
        [
            "Clarifies ideas or behavior under consideration",
            "Offers suggestions for action",
            "Communicates positive features",
            "Applies thought, effort, and time",
            "Promotes improvement in practice",
        ],
    ),
    (
        "Strategize to co-develop plans to improve performance",
        "Coach and leader agree on research-based next steps, a time frame and how growth "
        "will be supported.",
        [
            "Focuses energy and actions moving forward",
            "Jointly identifies specific research-based professional learning and practice",
            "Mutually selects next steps to initiate",
            "Jointly establishes timeframe for completion",
            "Facilitates growth of leader",
        ],
    ),
]

_RUBRIC_TITLES = [
    "Engages in collegial, trusting relationship to address leadership issues or initiatives",
    "Communicates collaboratively with the coach guiding outcome-based conversation",
    "Provides evidence-based communicative feedback, resources, and support",
    "Strategizes to co-develop plans to improve performance",
]


def coaching_content() -> VersionContent:
    """A fresh copy on every call, so a test may change it without touching another's."""
    return {
        "title": "Collaborative Leadership Coaching",
        "summary": (
            "Coach a school leader in collegial, collaborative conversations that jointly "
            "address a leadership issue and co-develop a plan of action."
        ),
        "competency_statement": (
            "Coach engages the educational leader (principal, associate/assistant principal, "
            "district administrator, or teacher leader) in collegial and collaborative "
            "conversations in order to jointly address leadership issues or initiatives and "
            "co-develop a plan of action."
        ),
        "key_method": (
            "The coach utilizes two-way communication with an educational leader to ensure "
            "shared analysis and decision-making. The coach provides support and works with the "
            "educational leader to strategize in co-developing plans to improve performance."
        ),
        "research_basis": (
            "Collaborative Leadership Coaching is collegial, partnership coaching focused on "
            "raising the level of insight, resources, strategic decision-making and planning. "
            "It draws on the School Leader Continuum and its School Leader Paradigm (School "
            "Leadership Collaborative, 2016; Kolzow, 2013), on emotional intelligence (Goleman, "
            "2001), on trust in schools (Tschannen-Moran, 2004), on results coaching and "
            "high-level questioning (Kee, 2010), and on the IPA Mentoring and Coaching Handbook's "
            "committed listening and purposeful paraphrasing."
        ),
        "estimated_hours": "15",
        "difficulty": "advanced",
        "career_phase": "school_leader",
        "grade_bands": ["k-12"],
        "subjects": ["leadership"],
        "components": [
            {"title": title, "description": description}
            for title, description, _details in _COMPONENT_DETAILS
        ],
        "resources": [
            {
                "title": "Illinois Principals Association Mentor and Coach Development Program",
                "url": "https://ilprincipals.org/grow/ipa-leadership-coaching/",
            },
            {
                "title": "National Association of Elementary School Principals Mentor Training",
                "url": "https://www.naesp.org/mentor",
            },
            {
                "title": "School Leadership Collaborative: The School Leader Continuum (2016)",
                "url": "http://bit.ly/2yg3W9G",
            },
        ],
        "evidence": [
            {
                "kind": "written",
                "title": "Part 1. Overview questions",
                "instructions": (
                    "Answer the following questions (1,000 words in total):\n"
                    "1. What strategies have you used to engage a school leader in a collegial, "
                    "trusting relationship in order to address leadership issues or initiatives?\n"
                    "2. What are the key communications skills that have supported you in "
                    "working collaboratively with a school leader while the coach still guides "
                    "the outcome-based conversation?\n"
                    "3. What are the main considerations you take in providing evidence-based "
                    "communicative feedback, resources, and support?\n"
                    "4. What has collaborative leadership coaching looked like for you in "
                    "co-developing plans to improve performance?"
                ),
                "word_limit": 1000,
            },
            {
                "kind": "video",
                "title": "Part 2. Work example: coaching video",
                "instructions": (
                    "Submit a 10-15 minute video of you coaching another school leader that "
                    "captures one or more of the four method components. Add brief time-stamped "
                    "notes that identify which components are included and where, for example: "
                    "3:15 - Here I am engaging in an outcomes-based conversation with one of my "
                    "principal mentees."
                ),
                "min_duration_seconds": 600,
                "max_duration_seconds": 900,
                "requires_annotations": True,
                "min_annotations": 1,
                "allowed_types": ["video/mp4", "video/quicktime", "video/webm"],
                "max_file_size_mb": 4096,
            },
            {
                "kind": "reflection",
                "title": "Part 3. Reflection",
                "instructions": (
                    "Summarize your experience of collaborative leadership coaching, with "
                    "specific examples of how you applied the four components: topics covered, "
                    "how you mutually analyzed situations, made decisions together, or "
                    "co-developed plans (500 words)."
                ),
                "word_limit": 500,
            },
        ],
        "rubric": {
            "scoring": "details",
            "instructions": (
                "Parts 1, 2 and 3 together should show all four components. One point per "
                "detail if evident in at least one of the three submitted parts; each "
                "component is scored out of five."
            ),
            "components": [
                {
                    "title": _RUBRIC_TITLES[i],
                    "max_points": 5,
                    "component": i,
                    "criteria": [{"text": detail, "points": 1} for detail in details],
                }
                for i, (_title, _description, details) in enumerate(_COMPONENT_DETAILS)
            ],
            "bands": [
                {
                    "label": "Yes",
                    "min_points": 16,
                    "max_points": 20,
                    "passing": True,
                    "description": (
                        "Evidence of all four components, with 16 to 20 details fully "
                        "addressed; all content and length requirements met."
                    ),
                },
                {
                    "label": "Almost",
                    "min_points": 13,
                    "max_points": 15,
                    "passing": False,
                    "description": (
                        "Evidence of three or four components, with 13 to 15 details fully "
                        "addressed; limited examples or strategies."
                    ),
                },
                {
                    "label": "Not Yet",
                    "min_points": 8,
                    "max_points": 12,
                    "passing": False,
                    "description": (
                        "Evidence of three or fewer components, with 8 to 12 details fully "
                        "addressed (a lower score also falls here)."
                    ),
                },
            ],
        },
    }
