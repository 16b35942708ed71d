"""The offline coach (the interviewer without an LLM): asks questions and scores answers with no network and no model.

Without an LLM key this is the whole product, and it is the last link of the
LLM fallback chain. Modules, each with one concern:

* ``data`` -- the language packs (``languages/en.json``, ``languages/ko.json``:
  question banks, acknowledgements, markers, comment phrases, stop words) and
  ``tuning.json`` (personas, difficulties, interview-type agendas), validated
  with pydantic at first use;
* ``templates`` -- question kinds and recognising which template a question used;
* ``job`` -- the job as the interviewer sees it (role phrase, company, terms);
* ``relevance`` -- content words, overlap and near-duplicate detection;
* ``planner`` -- which question to ask next, follow-ups included;
* ``analysis``, ``scorer``, ``feedback`` -- measuring an answer, scoring it
  with a comment that says why, and the interview's overall feedback.

The provider class that plugs this into the vendor layer is
:class:`sio_server.vendors.offline_llm.OfflineLLM`.
"""

from .feedback import build_feedback
from .planner import next_question

__all__ = ["build_feedback", "next_question"]
