"""abbreviations: catalogued names written as one character inside a word.

Chinese news names countries, places and leaders by one character in set shapes:

- pairs and lists of countries: 中美, 俄乌, 美日韩, 港澳台 (a word of such characters,
  or the start of one: 中美关系);
- after a verb: 访美, 驻华, 对台, 对俄制裁, 赴京;
- before a noun: 美防长, 港媒, 台军, 中企, 日方, 俄总统;
- leaders' meetings and tickets: 习普会, 马习会, 拜习会晤, 赖萧配.

Each entity's characters and the shapes they take are in the catalogue
(``abbreviations`` in config/entities.yaml). The same character is a different word
more often than not (美元, 美好, 平台, 台风, 乌龙, 其中, 学习, 特别), so a shape
counts only on the segmenter's word edges, and known words that look like one
(中美洲, 美中不足, 朝中社, 台中) never do: precision before recall. The tables are
here; the scan over an article is native code (``mediamon_native.Shapes``,
native/src/shapes.rs): in Python its loop over candidate characters cost a fifth of an
article's time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from mediamon_native import Shapes

from pipelines.entities import CatalogueError, Entity, Mention
from pipelines.normalize import NormText, fold, normalize
from pipelines.segment import Segmented

# How a character may be used (the catalogue's values): "compound" in every shape
# but leaders'; "pair" only beside another country's; "after_verb" only after a verb
# (华 and 京 begin too many words); "leader" in a meeting's or a ticket's name; and
# "beside X": in a pair with X only, where it wins over the character's other entity
# (澳 with 港 is Macau, elsewhere Australia).
USES = ("compound", "pair", "after_verb", "leader")
BESIDE = "beside "

# One-character verbs before a place: visit, be stationed in, resist, towards...
VERBS = frozenset("访驻抗反亲联援赴来抵返侵排仇媚友知遏对在涉辱制犯离进回旅留从向助挺")
# Nouns after a country's character (longest first when matched).
NOUNS = tuple(
    sorted(
        (
            "方 军 企 媒 籍 资 商 舰 机 警 胞 侨 独 府 防长 外长 总统 总理 首相 国务卿 大使 "
            "使馆 政府 当局 官员 官方 领导人 议员 议会 元首 外交 海军 空军 陆军 军方 舰队 "
            "战机 副总统 总书记 国防部 外交部 商务部 财长 驻华大使 专家 学者 智库 民调 代表 "
            "部长 经济 制裁 情报 文件 海警 立委 蓝委 绿委 政院 陆委会 选举 大选 股市"
        ).split(),
        key=len,
        reverse=True,
    )
)
# Words that look like a shape and are something else.
TRAPS = (
    "中美洲",
    "美中不足",
    "中英文",
    "中英双语",
    "朝中社",
    "朝日",
    "台中",
    "美德",
    "欧美",
    "来日",
    "离港",
    "港中大",
    "日中天",
    "从中",
    "向日葵",
    "回中",
    "法警",
)


class AbbreviationError(CatalogueError):
    """An ``abbreviations`` entry of the catalogue is malformed."""


class Abbreviations:
    """The catalogue's one-character abbreviations and the shapes they are found in."""

    def __init__(self, table: Iterable[tuple[Entity, Mapping[str, str]]]):
        self._country: dict[str, Entity] = {}  # compound and pair characters
        self._compound: dict[str, Entity] = {}  # those also used after verbs and before nouns
        self._verb_only: dict[str, Entity] = {}
        self._leader: dict[str, Entity] = {}
        self._beside: dict[str, tuple[str, Entity]] = {}
        for entity, uses in table:
            for char, use in uses.items():
                self._add(entity, fold(normalize(str(char)).text), str(use))
        # The scan itself is native (mediamon_native.Shapes): entities by number.
        self._entities: list[Entity] = []
        numbers: dict[str, int] = {}

        def number(entity: Entity) -> int:
            if entity.id not in numbers:
                numbers[entity.id] = len(self._entities)
                self._entities.append(entity)
            return numbers[entity.id]

        def by_number(table: dict[str, Entity]) -> dict[str, int]:
            return {char: number(entity) for char, entity in table.items()}

        self._shapes = Shapes(
            by_number(self._country),
            by_number(self._compound),
            by_number(self._verb_only),
            by_number(self._leader),
            {char: (partner, number(entity)) for char, (partner, entity) in self._beside.items()},
            "".join(sorted(VERBS)),
            list(NOUNS),
            list(TRAPS),
        )

    def _add(self, entity: Entity, char: str, use: str) -> None:
        if len(char) != 1 or not ("\u3400" <= char <= "\u9fff"):
            raise AbbreviationError(
                f"{entity.id}: abbreviation {char!r} is not one Chinese character"
            )
        if use.startswith(BESIDE):
            partner = use[len(BESIDE) :].strip()
            if len(partner) != 1:
                raise AbbreviationError(f"{entity.id}: {use!r} needs one character after 'beside'")
            self._beside[char] = (partner, entity)
            return
        if use not in USES:
            allowed = ", ".join([*USES, "beside X"])
            raise AbbreviationError(
                f"{entity.id}: abbreviation use {use!r} is not one of {allowed}"
            )
        kinds = {
            "compound": (self._country, self._compound),
            "pair": (self._country,),
            "after_verb": (self._verb_only,),
            "leader": (self._leader,),
        }[use]
        for kind in kinds:
            if char in kind and kind[char].id != entity.id:
                raise AbbreviationError(
                    f"abbreviation {char!r} belongs to both {kind[char].id!r} and {entity.id!r}"
                )
            kind[char] = entity

    def find(
        self,
        original: str,
        norm: NormText,
        edges: bytes,
        names: list[Mention],
        segmented: Segmented | None = None,
    ) -> list[Mention]:
        """Abbreviation mentions (one character each) outside the name mentions, in
        order; ``edges`` as for ``Catalogue.find``. A shape never takes a character of a
        name (中 of 中国), nor begins where ``segmented`` has a personal name (韩德洙 is
        no pair of Korea and Germany)."""
        spans = [(m.start, m.end) for m in names]
        found = self._shapes.find(norm.text, edges, spans, segmented)
        span = norm.original_span
        out = []
        for at, number in found:
            o_start, o_end = span(at, at + 1)
            out.append(Mention(self._entities[number], at, at + 1, original[o_start:o_end]))
        return out
