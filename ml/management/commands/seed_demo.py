"""`python manage.py seed_demo`: demo accounts and three demo projects, created once; a second run changes nothing.

Everything is generated here (templated review texts, images drawn with Pillow) and stored through the import
pipeline, so nothing is downloaded and the demo exercises the same code a user's import does.
"""
import io
import os
import random
from dataclasses import dataclass
from typing import Callable, Iterator

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from PIL import Image, ImageDraw

from ml.models import ProjectModel
from projects import services
from projects.admin_access import grant_manager_admin
from projects.imports.readers import ParsedTask, parse_json_body, read_tasks
from projects.label_config import LabelConfig
from projects.models import Project, Role
from projects.imports.service import import_limits, write_tasks

SEED = 20261123  # fixed, so every machine gets the same demo texts and images
TEXT_TASK_COUNT = 300
IMAGE_TASK_COUNT = 20
GENAI_TASK_COUNT = 60


@dataclass(frozen=True)
class DemoUser:
    username: str
    default_password: str
    description: str
    is_manager: bool = False

    @property
    def password(self) -> str:
        """The password a new account gets: LABELER_DEMO_<USERNAME>_PASSWORD, or the fixed development default."""
        return os.environ.get(f"LABELER_DEMO_{self.username.upper()}_PASSWORD") or self.default_password


@dataclass
class AccountReport:
    username: str
    password: str | None  # None when the account's password was changed since the demo created it
    description: str
    created: bool


DEMO_USERS = (
    DemoUser("manager", "labeler-manager", "staff; manages the demo projects; may use /admin/", is_manager=True),
    DemoUser("annotator1", "labeler-annotator1", "annotator in the demo projects"),
    DemoUser("annotator2", "labeler-annotator2", "annotator in the demo projects"),
)

TEXT_CONFIG = """<View>
  <Header value="How does the writer feel?"/>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text" choice="single">
    <Choice value="Positive" hotkey="1"/>
    <Choice value="Negative" hotkey="2"/>
    <Choice value="Neutral" hotkey="3"/>
  </Choices>
  <Header value="Mark people, organisations, places and products"/>
  <Labels name="entities" toName="text">
    <Label value="PER" hotkey="p"/>
    <Label value="ORG" hotkey="o"/>
    <Label value="LOC" hotkey="l"/>
    <Label value="PRODUCT" hotkey="r"/>
  </Labels>
</View>"""

IMAGE_CONFIG = """<View>
  <Header value="Draw a box around every face and every person"/>
  <Image name="image" value="$image"/>
  <RectangleLabels name="objects" toName="image">
    <Label value="Face" hotkey="f"/>
    <Label value="Person" hotkey="p"/>
  </RectangleLabels>
</View>"""


GENAI_CONFIG = """<View>
  <Header value="Which answer is better? Rate each, then fix the one you would send"/>
  <Text name="prompt" value="$prompt"/>
  <Text name="a" value="$response_a" markdown="true"/>
  <Text name="b" value="$response_b" markdown="true"/>
  <Pairwise name="preference" toName="a,b" allowTie="true"/>
  <Rating name="helpful_a" toName="a" maxRating="5"/>
  <Rating name="helpful_b" toName="b" maxRating="5"/>
  <TextArea name="rewrite" toName="a"/>
</View>"""


# --- generated review texts -------------------------------------------------------------------------------

PEOPLE = ["Maria Garcia", "John Smith", "Aiko Tanaka", "Lars Eriksson", "Fatima Khan", "Chen Wei", "Olga Petrova",
          "David Cohen", "Amara Okafor", "Luca Rossi", "Priya Natarajan", "Tom Becker"]
ORGS = ["Acme", "Northwind", "Globex", "Initech", "Umbrella Foods", "Stark Audio", "Hooli", "Vandelay Imports",
        "Blue Heron Outfitters", "Kestrel Labs"]
CITIES = ["Berlin", "Lisbon", "Nairobi", "Osaka", "Toronto", "Lyon", "Denver", "Krakow", "Austin", "Melbourne",
          "Valparaiso", "Edinburgh"]
PRODUCTS = ["headphones", "coffee grinder", "backpack", "smartwatch", "blender", "desk lamp", "running shoes",
            "e-reader", "rain jacket", "electric kettle", "office chair", "camera bag"]
PHRASES = {
    "Positive": ["works perfectly", "exceeded every expectation", "is worth every penny", "feels solid and well made",
                 "made my mornings better", "arrived early and looks great", "is the best purchase this year"],
    "Negative": ["broke after a week", "was a waste of money", "stopped charging on day two", "feels cheap and flimsy",
                 "arrived scratched and late", "is far too loud", "never worked as advertised"],
    "Neutral": ["arrived on Tuesday", "does what the box says", "comes in three colours", "weighs about a kilogram",
                "ships with a spare cable", "is sold in most stores", "replaced an older model"],
}
TEMPLATES = [
    "The {product} from {org} {phrase}.",
    "{person} bought the {org} {product} in {city} and says it {phrase}.",
    "Ordered the {product} from the {org} store in {city}; it {phrase}.",
    "{org} opened a shop in {city}, where {person} tried the new {product}: it {phrase}.",
    "My sister in {city} recommended the {org} {product}. Honestly, it {phrase}.",
    "According to {person}, the {product} made by {org} {phrase}.",
    "Picked up the {org} {product} at the airport in {city}. It {phrase}.",
    "Review by {person} ({city}): the {product} {phrase}.",
]


def review_texts(count: int, rng: random.Random) -> list[str]:
    """Distinct short reviews naming people, organisations, places and products, in all three sentiments."""
    texts: list[str] = []
    seen: set[str] = set()
    while len(texts) < count:
        sentiment = rng.choice(list(PHRASES))
        text = rng.choice(TEMPLATES).format(
            person=rng.choice(PEOPLE), org=rng.choice(ORGS), city=rng.choice(CITIES),
            product=rng.choice(PRODUCTS), phrase=rng.choice(PHRASES[sentiment]),
        )
        if text not in seen:
            seen.add(text)
            texts.append(text)
    return texts


def text_tasks(config: LabelConfig, rng: random.Random) -> Iterator[ParsedTask]:
    return parse_json_body([{"text": text} for text in review_texts(TEXT_TASK_COUNT, rng)], config)


# --- generated images -------------------------------------------------------------------------------------

SIZES = [(640, 480), (480, 640), (800, 600), (320, 240), (1024, 768), (600, 600)]
SKIN = [(255, 219, 172), (241, 194, 125), (224, 172, 105), (198, 134, 66), (141, 85, 36), (92, 56, 29)]
CLOTHES = [(200, 40, 40), (40, 90, 200), (40, 150, 70), (230, 180, 30), (120, 60, 160), (60, 60, 60)]


def draw_face(draw: ImageDraw.ImageDraw, cx: int, cy: int, radius: int, rng: random.Random) -> None:
    draw.ellipse([cx - radius, cy - int(radius * 1.15), cx + radius, cy + int(radius * 1.15)], fill=rng.choice(SKIN),
                 outline=(40, 30, 20), width=max(1, radius // 20))
    eye = max(2, radius // 6)
    for side in (-1, 1):
        ex, ey = cx + side * int(radius / 2.5), cy - radius // 4
        draw.ellipse([ex - eye, ey - int(eye / 1.5), ex + eye, ey + int(eye / 1.5)], fill="white")
        draw.ellipse([ex - eye // 2, ey - eye // 2, ex + eye // 2, ey + eye // 2], fill=(30, 30, 30))
    smile = rng.random() < 0.7
    top = cy + (radius // 5 if smile else radius // 2)
    mouth = [cx - radius // 2, top, cx + radius // 2, top + radius // 2]
    draw.arc(mouth, start=20 if smile else 200, end=160 if smile else 340, fill=(120, 30, 30), width=max(1, radius // 12))


def draw_person(draw: ImageDraw.ImageDraw, x: int, feet_y: int, height: int, rng: random.Random) -> None:
    """A standing figure `height` pixels tall: head with a face, body, arms and legs."""
    head = max(3, height // 9)
    body_top, body_bottom = feet_y - height + 2 * head, feet_y - int(height * 0.42)
    half_width = max(2, height // 8)
    limb = max(1, height // 30)
    trousers = rng.choice(CLOTHES[3:])
    for side in (-1, 1):
        draw.line([x + side * half_width // 2, body_bottom, x + side * half_width, feet_y], fill=trousers, width=limb * 3)
        draw.line([x + side * half_width, body_top + limb, x + side * int(half_width * 1.8), body_bottom], fill=(60, 60, 60),
                  width=limb * 2)
    draw.rectangle([x - half_width, body_top, x + half_width, body_bottom], fill=rng.choice(CLOTHES))
    draw_face(draw, x, feet_y - height + head, head, rng)


def draw_tree(draw: ImageDraw.ImageDraw, x: int, ground: int, height: int) -> None:
    draw.rectangle([x - height // 14, ground - height // 2, x + height // 14, ground], fill=(110, 70, 40))
    draw.ellipse([x - height // 3, ground - height, x + height // 3, ground - height // 3], fill=(50, 130, 60))


def draw_crowd(draw: ImageDraw.ImageDraw, width: int, height: int, ground: int, count: int, rng: random.Random) -> None:
    """People spread across the picture; the nearer (lower) ones are taller and drawn last, over the far ones."""
    slots = rng.sample(range(count * 2), count)
    people = []
    for slot in slots:
        depth = rng.random()  # 0 far away, 1 near the viewer
        tall = int(height * (0.15 + 0.4 * depth))
        feet = min(height - 5, ground + int((height - ground) * depth))
        x = int((slot + 0.5) * width / (count * 2))
        people.append((feet, x, tall))
    for feet, x, tall in sorted(people):
        draw_person(draw, x, feet, tall, rng)


def draw_scene(index: int, rng: random.Random) -> bytes:
    """One PNG: a portrait of faces, a street of people at different distances, or both."""
    width, height = SIZES[index % len(SIZES)]
    image = Image.new("RGB", (width, height), (150 + rng.randrange(60), 190 + rng.randrange(40), 235))
    draw = ImageDraw.Draw(image)
    ground = int(height * rng.uniform(0.6, 0.75))
    draw.rectangle([0, ground, width, height], fill=(120 + rng.randrange(40), 160, 90))
    draw.ellipse([width - 90, 20, width - 40, 70], fill=(250, 220, 80))
    for _ in range(rng.randrange(0, 3)):
        draw_tree(draw, rng.randrange(width), ground + rng.randrange(10), rng.randrange(height // 5, height // 2))
    kind = index % 3
    if kind in (0, 2):
        for _ in range(rng.randint(1, 3)):
            radius = rng.randrange(min(width, height) // 12, min(width, height) // 5)
            draw_face(draw, rng.randrange(radius, width - radius), rng.randrange(radius + 10, ground), radius, rng)
    if kind in (1, 2):
        draw_crowd(draw, width, height, ground, rng.randint(2, 6), rng)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def image_tasks(config: LabelConfig, rng: random.Random) -> Iterator[ParsedTask]:
    kinds = ("faces", "street", "mixed")
    for index in range(IMAGE_TASK_COUNT):
        name = f"scene-{index + 1:02d}-{kinds[index % 3]}.png"
        yield from read_tasks(name, io.BytesIO(draw_scene(index, rng)), config, import_limits())


# --- generated prompts and model answers ----------------------------------------------------------------------

TOPICS = ["a hash map", "HTTP caching", "a database index", "a Python generator", "TCP's handshake",
          "gradient descent", "a Bloom filter", "unit tests", "a mutex", "DNS", "a binary search", "JSON Web Tokens"]
ASKS = ["Explain {topic} to a new engineer.", "What is {topic}, and when should I use it?",
        "Give me three facts about {topic}.", "How would you teach {topic} in five minutes?"]
# Three made-up models of different quality, so the leaderboard has an order to find.
DEMO_MODELS = {
    "model-careful": "careful", "model-brief": "brief", "model-sloppy": "sloppy",
}


def model_answer(style: str, topic: str, rng: random.Random) -> str:
    """A Markdown answer in the model's style: careful ones have structure and an example, sloppy ones don't."""
    if style == "careful":
        steps = "\n".join(f"{n}. {point}" for n, point in enumerate(
            rng.sample(["Start from the problem it solves.", "Show the smallest working example.",
                        "Name the cost it trades for its speed.", "Say when *not* to use it."], 3), 1))
        return f"**{topic.capitalize()}** in short:\n\n{steps}\n\n```python\n# a tiny example about {topic}\nprint('{topic}')\n```"
    if style == "brief":
        return f"{topic.capitalize()} is a well-known technique. Use it when the simple approach gets too slow."
    return f"idk, {topic} is kind of like a list?? just google it"


def genai_tasks(config: LabelConfig, rng: random.Random) -> Iterator[ParsedTask]:
    """Prompts answered by two of the three demo models, which model wrote which in the task data."""
    models = list(DEMO_MODELS)
    tasks = []
    for index in range(GENAI_TASK_COUNT):
        topic = TOPICS[index % len(TOPICS)]
        model_a, model_b = rng.sample(models, 2)
        tasks.append({"data": {
            "prompt": rng.choice(ASKS).format(topic=topic),
            "response_a": model_answer(DEMO_MODELS[model_a], topic, rng), "model_a": model_a,
            "response_b": model_answer(DEMO_MODELS[model_b], topic, rng), "model_b": model_b,
        }})
    return parse_json_body(tasks, config)


# --- projects and accounts --------------------------------------------------------------------------------

@dataclass(frozen=True)
class DemoProject:
    title: str
    description: str
    instructions: str
    label_config: str
    tasks: Callable[[LabelConfig, random.Random], Iterator[ParsedTask]]
    model: dict | None  # the pre-labeling model's settings (ml.models.ProjectModel fields), if it has one


DEMO_PROJECTS = (
    DemoProject(
        title="Demo: product reviews",
        description="Generated product reviews: classify the sentiment and mark the named entities.",
        instructions="Pick one sentiment (1/2/3). Then select each person (p), organisation (o), place (l) and "
                     "product (r) in the text.",
        label_config=TEXT_CONFIG,
        tasks=text_tasks,
        # Learns the sentiment from the annotators' first 20 labels, then again after every 20 more; each new
        # version pre-labels the unfinished tasks, so annotators see its suggestions without anyone starting a job.
        model={"engine": "text_classifier", "control": "sentiment", "min_labels": 20, "retrain_every": 20,
               "prelabel_after_training": True},
    ),
    DemoProject(
        title="Demo: faces and people",
        description="Generated drawings of faces and people at different sizes.",
        instructions="Draw a tight box around every face (f) and every whole person (p), including small ones far away.",
        label_config=IMAGE_CONFIG,
        tasks=image_tasks,
        # Pre-trained: pre-labels the demo images as soon as they are imported (and any imported later).
        model={"engine": "detector", "label_map": {"face": "Face", "person": "Person"}, "auto_prelabel": True},
    ),
    DemoProject(
        title="Demo: which answer is better?",
        description="Generated prompts, each answered by two of three made-up models: preference data and a leaderboard.",
        instructions="Read both answers. Pick the better one (1/2, or T for a tie), rate each from 1 to 5, and "
                     "rewrite answer a into the one you would send.",
        label_config=GENAI_CONFIG,
        tasks=genai_tasks,
        model=None,
    ),
)


def ensure_user(demo: DemoUser) -> tuple[object, AccountReport]:
    User = get_user_model()
    user = User.objects.filter(username=demo.username).first()
    created = user is None
    if created:
        user = User.objects.create_user(username=demo.username, password=demo.password)
    if demo.is_manager:
        grant_manager_admin(user)  # also repairs a demo seeded before a manager's app joined the group
    password = demo.password if created or user.check_password(demo.password) else None
    return user, AccountReport(demo.username, password, demo.description, created)


def ensure_superuser() -> AccountReport | None:
    """An `admin` superuser, only when DJANGO_SUPERUSER_PASSWORD is set; its password is never printed."""
    password = os.environ.get("DJANGO_SUPERUSER_PASSWORD")
    if not password:
        return None
    username = os.environ.get("DJANGO_SUPERUSER_USERNAME") or "admin"
    User = get_user_model()
    created = not User.objects.filter(username=username).exists()
    if created:
        User.objects.create_superuser(username=username, email=os.environ.get("DJANGO_SUPERUSER_EMAIL", ""), password=password)
    return AccountReport(username, "$DJANGO_SUPERUSER_PASSWORD", "superuser", created)


def ensure_project(demo: DemoProject, manager, annotators: list) -> tuple[Project, bool]:
    """Create the project with its tasks and members in one transaction, unless a project of that title exists."""
    existing = Project.objects.filter(title=demo.title).order_by("id").first()
    if existing is not None:
        return existing, False
    with transaction.atomic():
        project = services.create_project(
            creator=manager, title=demo.title, label_config=demo.label_config,
            description=demo.description, instructions=demo.instructions,
        )
        for annotator in annotators:
            services.add_member(project=project, user=annotator, role=Role.ANNOTATOR)
        if demo.model is not None:
            ProjectModel.objects.create(project=project, **demo.model)
        write_tasks(project, demo.tasks(services.project_config(project), random.Random(f"{SEED}-{demo.title}")))
    project.refresh_from_db()
    return project, True


class Command(BaseCommand):
    help = "Create the demo accounts and projects. Idempotent: existing accounts and projects are left as they are."

    def handle(self, *args, **options) -> None:
        users, self.accounts = [], []
        for demo in DEMO_USERS:
            user, report = ensure_user(demo)
            users.append(user)
            self.accounts.append(report)
        superuser = ensure_superuser()
        if superuser:
            self.accounts.append(superuser)
        for demo in DEMO_PROJECTS:
            project, created = ensure_project(demo, users[0], users[1:])
            verb = "created" if created else "kept   "
            self.stdout.write(f"  {verb} project {project.pk} {project.title!r} ({project.task_count} tasks)")
        self.stdout.write("Demo accounts (username / password):")
        for line in self.account_lines():
            self.stdout.write(line)

    def account_lines(self) -> list[str]:
        return account_lines(self.accounts)


def account_lines(accounts: list[AccountReport]) -> list[str]:
    lines = []
    for account in accounts:
        password = account.password or "(password changed since the demo created it)"
        lines.append(f"  {account.username} / {password}    {account.description}")
    return lines
