"""An offline interviewer: deterministic, template-driven, no network.

``OfflineLLM`` implements :class:`~sio_server.vendors.llm.LLMProvider`. It plans
each question like a human interviewer would:

1. question 1 is an opener (self-introduction and why this role, naming the job
   title when given); when the interview has a single question, that question is
   an opener that also invites the candidate to make their case ("single");
2. the last question is a closing question ("anything you'd like to ask us?");
3. questions in between follow an *agenda* of categories (resume experience,
   role/technical skills from the job description, behavioural STAR questions
   about conflict, failure, deadlines and leadership, motivation), which is
   shuffled per interview; a very short previous answer triggers a request for a
   concrete example, and a substantial one sometimes triggers a follow-up on its
   most salient keyword.

Everything is seeded from a SHA-256 of the request, so the same request always
gives the same text. Templates already used in the interview are recognised in
``request.turns`` by their fixed text ("signature") and never reused.

``feedback`` scores each answered turn on length, STAR structure, metrics and
overlap with the job description's keywords. Unanswered turns are left out of
``per_question`` but count as 0 in ``overall_score``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from string import Formatter

from ..interview.model import Feedback, InterviewConfig, QuestionScore, Turn
from ..text.keywords import extract_keywords, has_hangul, keyword_set, normalize
from .llm import FeedbackRequest, QuestionRequest

__all__ = ["OfflineLLM", "build_feedback", "build_question", "fallback_question"]

# ---------------------------------------------------------------------------
# Question banks: BANK[language][kind][persona] -> templates.
# Slots: {role} ("the X role" / "X 직무", or a generic "this role" / "이 직무"),
# {kw} (a resume or job-description keyword), {phrase} (a keyword from the
# previous answer). Korean templates only put particles after {role} (which
# always ends in 직무) and use 관련/경험/에 대해 after {kw}/{phrase}, so no
# batchim-dependent particle is ever needed.
# ---------------------------------------------------------------------------

OPENER, SINGLE, CLOSING = "opener", "single", "closing"
RESUME, TECHNICAL, MOTIVATION, GENERAL = "resume", "technical", "motivation", "general"
CONFLICT, FAILURE, DEADLINE, LEADERSHIP = "conflict", "failure", "deadline", "leadership"
FOLLOWUP, FOLLOWUP_SHORT = "followup", "followup_short"

BEHAVIOURAL = (CONFLICT, FAILURE, DEADLINE, LEADERSHIP)
FOLLOWUPS = frozenset({FOLLOWUP, FOLLOWUP_SHORT})
NOT_AGENDA = frozenset({OPENER, SINGLE, CLOSING, FOLLOWUP, FOLLOWUP_SHORT})

Bank = dict[str, dict[str, tuple[str, ...]]]

EN_BANK: Bank = {
    OPENER: {
        "professional": (
            "To start, could you briefly introduce yourself and explain what drew you to {role}?",
            "Let's begin with a short introduction. What in your background has prepared you for {role}?",
        ),
        "friendly": (
            "Welcome, it's great to meet you! Could you start by telling me a little about yourself and what got you excited about {role}?",
            "Thanks so much for joining today! I'd love to hear a bit about you and why {role} caught your eye.",
        ),
        "challenging": (
            "Let's get straight to it. Introduce yourself briefly, then tell me why you are the right person for {role} rather than someone with more direct experience.",
            "Give me a short introduction, and then convince me: what is the single strongest reason we should hire you for {role}?",
        ),
    },
    SINGLE: {
        "professional": (
            "Since we only have time for one question today, please introduce yourself and explain why you would be a strong fit for {role}.",
        ),
        "friendly": (
            "We only have time for one question today, so make it count! Tell me a bit about yourself and why {role} feels like a great match for you.",
        ),
        "challenging": (
            "We have time for exactly one question, so be precise: who are you, and what concrete evidence shows you can succeed in {role}?",
        ),
    },
    RESUME: {
        "professional": (
            "You listed {kw} on your resume. Could you describe a project where you used it and what your specific contribution was?",
            "I see {kw} in your background. What was the most challenging problem you solved with it?",
            "Looking at your resume, which project are you most proud of, and what was your role in it?",
        ),
        "friendly": (
            "I noticed {kw} on your resume, which sounds great! Could you tell me about a project where you really got to use it?",
            "Your experience with {kw} caught my eye. What did you enjoy most about working with it?",
            "I'd love to hear about a project from your resume that you're especially proud of. What made it meaningful to you?",
        ),
        "challenging": (
            "You list {kw} on your resume. How deep does that experience really go? Give me a specific problem you solved with it and the numbers behind the outcome.",
            "Tell me about a time {kw} didn't work the way you expected. What trade-offs did you make?",
            "Pick the project on your resume you're proudest of. What exactly did you do yourself, and what would you do differently now?",
        ),
    },
    TECHNICAL: {
        "professional": (
            "This role involves {kw}. How have you applied it in practice, and what approach do you usually take?",
            "How would you approach a task involving {kw} in your first few months in {role}?",
            "Which technical or professional skills do you consider most important for {role}, and how have you developed them?",
        ),
        "friendly": (
            "We work with {kw} quite a bit on this team. How comfortable are you with it, and how did you pick it up?",
            "I'm curious how you'd approach {kw} here. Could you walk me through how you'd get started?",
            "What's a skill that matters for {role} that you've been enjoying getting better at recently?",
        ),
        "challenging": (
            "The job description calls for {kw}. Where are your gaps with it, and how would you close them quickly?",
            "Suppose something involving {kw} goes badly wrong in your first month. Walk me through what you'd do first and what you'd be willing to trade off.",
            "What's the hardest technical or role-specific decision you've made recently, and what did it cost you?",
        ),
    },
    CONFLICT: {
        "professional": (
            "Tell me about a time you disagreed with a colleague or stakeholder. What was the situation, what did you do, and what was the outcome?",
            "Describe a situation where you had to work with someone whose working style was very different from yours. How did you handle it?",
        ),
        "friendly": (
            "Everyone runs into disagreements at work sometimes. Could you share a time you worked through one with a teammate, and how it turned out?",
            "Tell me about a time you helped your team get back on the same page after a misunderstanding.",
        ),
        "challenging": (
            "Describe a conflict at work where you were at least partly wrong. What did you do about it, and what would you do differently?",
            "Tell me about a time you pushed back on a senior person's decision. What was at stake, and how did it end?",
        ),
    },
    FAILURE: {
        "professional": (
            "Could you tell me about a time a project or task did not go as planned? What did you learn from it?",
            "Describe a mistake you made at work and how you handled its consequences.",
        ),
        "friendly": (
            "We all have projects that don't go to plan. Could you share one of yours and what you took away from it?",
            "What's a setback that ended up teaching you something valuable?",
        ),
        "challenging": (
            "Tell me about your biggest professional failure. What exactly went wrong, what was your part in it, and what would you do differently?",
            "Describe a decision of yours that turned out badly. How did you measure the damage, and how did you recover?",
        ),
    },
    DEADLINE: {
        "professional": (
            "Describe a time you had to deliver under a tight deadline. How did you prioritise, and what was the result?",
            "How do you manage your work when several priorities compete for your time? Please give a concrete example.",
        ),
        "friendly": (
            "Tight deadlines happen to everyone! Could you tell me about one you managed and how you kept things on track?",
            "How do you like to organise your work when things get busy? An example would be great.",
        ),
        "challenging": (
            "Tell me about a deadline you missed or nearly missed. What did you cut, and what was the trade-off?",
            "When time runs out, what do you sacrifice first: quality, scope or your own time? Give me a real example with numbers.",
        ),
    },
    LEADERSHIP: {
        "professional": (
            "Tell me about a time you took the lead on something without being formally asked. What did you do, and what was the impact?",
            "Describe a situation where you had to persuade others to adopt your idea. How did you approach it?",
        ),
        "friendly": (
            "Could you share a moment when you stepped up to help your team? I'd love to hear how it went.",
            "Tell me about a time you helped a colleague grow or learn something new.",
        ),
        "challenging": (
            "Give me an example where you led people who didn't report to you. How did you get them to commit, and what measurable result did you achieve?",
            "Tell me about a time your leadership didn't work. What did you misjudge?",
        ),
    },
    MOTIVATION: {
        "professional": (
            "Why are you interested in {role} at this point in your career?",
            "What kind of work environment helps you do your best work, and why?",
        ),
        "friendly": (
            "What part of {role} are you most excited about?",
            "Where would you like to see yourself growing over the next few years?",
        ),
        "challenging": (
            "Why should we believe you'll stay motivated in {role} once the novelty wears off?",
            "What would make you leave this job within a year?",
        ),
    },
    GENERAL: {
        "professional": (
            "How do you keep your skills current in your field?",
            "What would you hope to accomplish in your first 90 days in {role}?",
            "How do you usually respond to feedback on your work? Please give an example.",
        ),
        "friendly": (
            "What's something you've learned recently that you're excited about?",
            "What would a great first three months in {role} look like for you?",
            "What kind of team do you enjoy working with the most?",
        ),
        "challenging": (
            "What's the most common criticism you receive, and is it fair?",
            "What would your first 90 days in {role} deliver that we could actually measure?",
            "Which of your professional habits would you most like to change?",
        ),
    },
    FOLLOWUP: {
        "professional": (
            "You mentioned {phrase}. Could you go into more detail about your specific role there?",
            "I'd like to hear more about {phrase}. What was the most difficult part, and how did you handle it?",
            "Regarding {phrase}, what result did that lead to, and how did you measure it?",
        ),
        "friendly": (
            "You mentioned {phrase}, which sounds interesting! Could you tell me a bit more about it?",
            "I'd love to hear more about {phrase}. What did you learn along the way?",
            "How did your experience with {phrase} shape the way you work today?",
        ),
        "challenging": (
            "You brought up {phrase}. What were the alternatives, and why was your approach the right trade-off?",
            "Let's go deeper on {phrase}. What numbers show that it actually worked?",
            "About {phrase}: if you had to do it again, what would you do differently?",
        ),
    },
    FOLLOWUP_SHORT: {
        "professional": (
            "Could you expand on that with a concrete example from your experience?",
            "Could you walk me through a specific situation that illustrates your answer?",
        ),
        "friendly": (
            "Thanks! Could you share a specific example so I can picture it better?",
            "No rush. Could you tell me about a specific moment from your experience that shows this?",
        ),
        "challenging": (
            "That's quite brief. Give me a concrete example: what happened, what did you do, and what was the result?",
            "I need more than that. What specific situation are you thinking of, and what was the measurable outcome?",
        ),
    },
    CLOSING: {
        "professional": (
            "We're nearing the end of the interview. Is there anything you'd like to ask us, or anything you'd like to add?",
            "That's all the questions I have. Is there anything else you would like us to know, or any question for us?",
        ),
        "friendly": (
            "We're almost done, and you've done great! Is there anything you'd like to ask me, or anything else you'd like to share?",
            "Thanks so much for your time today. Before we wrap up, do you have any questions for us?",
        ),
        "challenging": (
            "Last question: why should we choose you over the other candidates? Feel free to ask us anything as well.",
            "Before we finish, is there anything you'd like to ask us, or anything you think we've misjudged about you?",
        ),
    },
}

KO_BANK: Bank = {
    OPENER: {
        "professional": (
            "먼저 간단하게 자기소개 부탁드립니다. {role}에 지원하시게 된 계기도 함께 말씀해 주시겠어요?",
            "면접을 시작하겠습니다. 지금까지의 경력을 간단히 소개해 주시고, 그 경험이 {role}와 어떻게 연결되는지 말씀해 주세요.",
        ),
        "friendly": (
            "반갑습니다! 편하게 자기소개 먼저 부탁드려요. {role}에 관심을 갖게 된 계기도 궁금해요.",
            "오늘 와 주셔서 감사해요. 긴장 푸시고, 본인 소개와 함께 {role}에 지원하신 이유를 편하게 이야기해 주세요.",
        ),
        "challenging": (
            "바로 시작하겠습니다. 자기소개는 짧게 해 주시고, 다른 지원자가 아닌 본인이 {role}에 적합한 이유를 설명해 주세요.",
            "1분 안에 자기소개를 해 주시고, 본인을 {role}에 뽑아야 하는 가장 확실한 이유 한 가지를 말씀해 주세요.",
        ),
    },
    SINGLE: {
        "professional": (
            "오늘은 질문을 하나만 드리겠습니다. 간단한 자기소개와 함께 본인이 {role}에 적합하다고 생각하시는 이유를 말씀해 주세요.",
        ),
        "friendly": (
            "오늘은 질문이 딱 하나예요! 편하게 자기소개를 해 주시고, {role}에 잘 맞는다고 생각하시는 이유도 들려주세요.",
        ),
        "challenging": (
            "질문은 하나뿐이니 핵심만 말씀해 주세요. 본인은 누구이고, {role}에서 성과를 낼 수 있다는 구체적인 근거는 무엇인가요?",
        ),
    },
    RESUME: {
        "professional": (
            "이력서에 {kw} 경험을 적어주셨는데요, 해당 경험을 활용한 프로젝트와 본인의 구체적인 역할을 설명해 주시겠어요?",
            "이력서를 보니 {kw} 관련 경력이 있으시네요. 그 과정에서 해결하신 가장 어려운 문제는 무엇이었나요?",
            "이력서에 적어주신 프로젝트 중 가장 자랑하고 싶은 것은 무엇이고, 그 안에서 맡으신 역할은 무엇이었나요?",
        ),
        "friendly": (
            "이력서에 있는 {kw} 경험이 정말 인상적이에요. 그 경험을 살렸던 프로젝트 이야기를 들려주시겠어요?",
            "{kw} 관련 경험이 눈에 띄네요! 그 일을 하면서 가장 즐거웠던 순간은 언제였나요?",
            "이력서에 있는 프로젝트 중에 특히 애정이 가는 것이 있다면 소개해 주시겠어요?",
        ),
        "challenging": (
            "이력서에 {kw} 경험이 있다고 하셨는데, 실제로 얼마나 깊이 다뤄 보셨나요? 직접 해결한 문제와 그 성과를 수치로 말씀해 주세요.",
            "{kw} 관련 작업이 예상대로 풀리지 않았던 경험이 있나요? 그때 어떤 트레이드오프를 선택하셨나요?",
            "이력서의 프로젝트 중 하나를 골라, 본인이 직접 한 일만 말씀해 주세요. 지금 다시 한다면 무엇을 다르게 하시겠어요?",
        ),
    },
    TECHNICAL: {
        "professional": (
            "이 포지션에서는 {kw} 역량이 중요한데요, 실무에서 어떻게 활용해 보셨는지 말씀해 주시겠어요?",
            "입사 후 {kw} 관련 업무를 맡게 된다면 어떤 방식으로 접근하실지 설명해 주시겠어요?",
            "{role}에서 가장 중요한 역량은 무엇이라고 생각하시고, 그 역량을 어떻게 키워 오셨나요?",
        ),
        "friendly": (
            "저희 팀에서는 {kw} 관련 일이 많은 편이에요. 어떻게 익히셨고 얼마나 익숙하신지 편하게 말씀해 주세요.",
            "여기서 {kw} 관련 업무를 하게 된다면, 어떻게 시작해 보고 싶으신지 이야기해 주실래요?",
            "{role}에 필요한 역량 중에서 요즘 가장 즐겁게 키우고 있는 것이 있다면 무엇인가요?",
        ),
        "challenging": (
            "채용 공고에서 {kw} 역량을 요구하고 있습니다. 본인에게 부족한 부분은 무엇이고, 어떻게 빠르게 채우시겠어요?",
            "입사 첫 달에 {kw} 관련 문제가 크게 터졌다고 가정해 보죠. 무엇부터 하시겠고, 무엇을 포기하시겠어요?",
            "최근에 내리신 가장 어려운 기술적 또는 업무적 결정은 무엇이었고, 그 대가는 무엇이었나요?",
        ),
    },
    CONFLICT: {
        "professional": (
            "동료나 이해관계자와 의견이 달랐던 경험을 말씀해 주세요. 어떤 상황이었고, 어떻게 행동하셨으며, 결과는 어땠나요?",
            "일하는 방식이 본인과 많이 다른 동료와 협업했던 경험이 있으신가요? 그때 어떻게 대처하셨는지 말씀해 주세요.",
        ),
        "friendly": (
            "일하다 보면 의견 충돌은 누구에게나 생기죠. 팀원과 의견 차이를 잘 풀어냈던 경험을 들려주시겠어요?",
            "오해 때문에 팀 분위기가 어색해졌을 때, 다시 손발을 맞춰 갔던 경험이 있다면 이야기해 주세요.",
        ),
        "challenging": (
            "본인이 적어도 일부는 틀렸던 갈등 상황을 말씀해 주세요. 그 후 어떻게 하셨고, 지금이라면 무엇을 다르게 하시겠어요?",
            "상급자의 결정에 반대 의견을 냈던 경험이 있나요? 무엇이 걸려 있었고, 결과는 어떻게 되었나요?",
        ),
    },
    FAILURE: {
        "professional": (
            "계획대로 진행되지 않았던 프로젝트나 업무 경험을 말씀해 주시겠어요? 그 경험에서 무엇을 배우셨나요?",
            "업무 중 실수했던 경험과, 그 결과를 어떻게 수습하셨는지 말씀해 주세요.",
        ),
        "friendly": (
            "누구나 뜻대로 안 풀리는 프로젝트가 있잖아요. 그런 경험과 거기서 얻은 배움을 편하게 이야기해 주세요.",
            "돌이켜 보면 오히려 도움이 되었던 실패 경험이 있나요?",
        ),
        "challenging": (
            "가장 크게 실패했던 경험을 말씀해 주세요. 무엇이 잘못됐고, 본인의 책임은 어디까지였으며, 다시 한다면 무엇을 다르게 하시겠어요?",
            "본인의 판단이 나쁜 결과로 이어졌던 경우를 말씀해 주세요. 피해를 어떻게 측정했고, 어떻게 회복하셨나요?",
        ),
    },
    DEADLINE: {
        "professional": (
            "촉박한 마감 안에 결과물을 내야 했던 경험을 말씀해 주세요. 우선순위를 어떻게 정하셨고, 결과는 어땠나요?",
            "여러 업무가 동시에 몰릴 때 어떻게 관리하시는지 구체적인 사례와 함께 말씀해 주시겠어요?",
        ),
        "friendly": (
            "마감에 쫓겼던 경험, 다들 한 번쯤 있으시죠? 그때 어떻게 일정을 지켜 내셨는지 들려주세요.",
            "일이 한꺼번에 몰릴 때 본인만의 정리 방법이 있나요? 예시와 함께 이야기해 주시면 좋겠어요.",
        ),
        "challenging": (
            "마감을 놓쳤거나 거의 놓칠 뻔했던 경험을 말씀해 주세요. 무엇을 포기했고, 그 트레이드오프는 무엇이었나요?",
            "시간이 부족할 때 품질, 범위, 개인 시간 중 무엇을 먼저 희생하시나요? 실제 사례와 수치로 설명해 주세요.",
        ),
    },
    LEADERSHIP: {
        "professional": (
            "공식적인 역할이 없었는데도 주도적으로 일을 이끌었던 경험이 있으신가요? 어떤 행동을 하셨고, 어떤 성과가 있었나요?",
            "본인의 아이디어를 다른 사람들이 받아들이도록 설득했던 경험을 말씀해 주시겠어요?",
        ),
        "friendly": (
            "팀을 위해 먼저 나서서 도왔던 순간이 있다면 들려주세요. 어떻게 진행됐는지 궁금해요.",
            "동료가 성장하거나 새로운 것을 배우도록 도와준 경험이 있나요?",
        ),
        "challenging": (
            "직속 부하가 아닌 사람들을 이끌어야 했던 사례를 말씀해 주세요. 어떻게 그들을 움직였고, 측정 가능한 결과는 무엇이었나요?",
            "본인의 리더십이 통하지 않았던 경험을 말씀해 주세요. 무엇을 잘못 판단하셨나요?",
        ),
    },
    MOTIVATION: {
        "professional": (
            "지금 이 시점에 {role}에 관심을 갖게 되신 이유는 무엇인가요?",
            "어떤 업무 환경에서 가장 좋은 성과를 내시는 편인지, 그 이유와 함께 말씀해 주세요.",
        ),
        "friendly": (
            "{role}에서 가장 기대되는 부분은 무엇인가요?",
            "앞으로 몇 년 동안 어떤 방향으로 성장하고 싶으신지 궁금해요.",
        ),
        "challenging": (
            "처음의 설렘이 사라진 뒤에도 {role}에서 동기를 유지할 수 있다는 근거는 무엇인가요?",
            "어떤 일이 생기면 1년 안에 이 회사를 떠나시겠어요?",
        ),
    },
    GENERAL: {
        "professional": (
            "본인의 분야에서 역량을 꾸준히 발전시키기 위해 어떤 노력을 하고 계신가요?",
            "{role}에 합류하신다면 처음 90일 동안 어떤 일을 해내고 싶으신가요?",
            "업무에 대한 피드백을 받았을 때 보통 어떻게 반영하시는지 사례와 함께 말씀해 주세요.",
        ),
        "friendly": (
            "요즘 새롭게 배우고 있는 것 중에 특히 재미있는 게 있나요?",
            "{role}에서 보내는 첫 3개월이 어떤 모습이면 좋을지 이야기해 주실래요?",
            "어떤 팀과 함께 일할 때 가장 즐거우신가요?",
        ),
        "challenging": (
            "가장 자주 듣는 비판은 무엇이고, 그 비판이 타당하다고 생각하시나요?",
            "{role}에 합류한다면 처음 90일 동안 측정 가능한 성과로 무엇을 보여 주시겠어요?",
            "본인의 업무 습관 중 가장 고치고 싶은 것은 무엇인가요?",
        ),
    },
    FOLLOWUP: {
        "professional": (
            "방금 {phrase}에 대해 말씀해 주셨는데요, 그 안에서 본인이 맡은 역할을 조금 더 자세히 설명해 주시겠어요?",
            "{phrase} 이야기를 조금 더 듣고 싶습니다. 가장 어려웠던 점은 무엇이었고, 어떻게 해결하셨나요?",
            "말씀하신 {phrase} 관련해서, 어떤 결과로 이어졌고 그 성과는 어떻게 확인하셨나요?",
        ),
        "friendly": (
            "{phrase} 이야기가 정말 흥미롭네요! 조금 더 자세히 들려주시겠어요?",
            "{phrase} 경험에 대해 조금 더 듣고 싶어요. 그 과정에서 무엇을 배우셨나요?",
            "{phrase}에 대해 좀 더 이야기해 주실래요? 그 경험이 지금 일하는 방식에 어떤 영향을 주었는지 궁금해요.",
        ),
        "challenging": (
            "{phrase} 관련해서 다른 대안은 없었나요? 왜 그 방식이 최선의 트레이드오프였는지 설명해 주세요.",
            "{phrase} 부분을 더 파고들어 보죠. 실제로 효과가 있었다는 것을 보여 주는 수치가 있나요?",
            "{phrase} 경험을 다시 한다면, 무엇을 다르게 하시겠어요?",
        ),
    },
    FOLLOWUP_SHORT: {
        "professional": (
            "조금 더 구체적인 사례를 들어 설명해 주시겠어요?",
            "답변을 뒷받침할 수 있는 실제 경험을 하나 말씀해 주시겠어요?",
        ),
        "friendly": (
            "괜찮아요, 천천히 하셔도 돼요. 실제 있었던 일을 예로 들어 주시면 더 잘 이해될 것 같아요.",
            "좋아요. 혹시 구체적인 예시를 하나 들어 주실 수 있을까요?",
        ),
        "challenging": (
            "답변이 너무 짧습니다. 어떤 상황이었고, 무엇을 했고, 결과가 어땠는지 구체적으로 말씀해 주세요.",
            "그것만으로는 판단하기 어렵습니다. 구체적인 사례와 측정 가능한 결과를 말씀해 주세요.",
        ),
    },
    CLOSING: {
        "professional": (
            "면접을 마무리할 시간이 되었습니다. 마지막으로 저희에게 궁금한 점이나 덧붙이고 싶은 말씀이 있으신가요?",
            "준비한 질문은 여기까지입니다. 마지막으로 하고 싶은 말씀이나 질문이 있으시면 말씀해 주세요.",
        ),
        "friendly": (
            "벌써 마지막 질문이에요. 오늘 정말 잘해 주셨어요! 마지막으로 저희에게 궁금한 점이나 하고 싶은 말이 있나요?",
            "오늘 시간 내 주셔서 정말 감사해요. 마무리하기 전에 궁금한 점이 있으면 편하게 물어봐 주세요.",
        ),
        "challenging": (
            "마지막 질문입니다. 다른 지원자가 아닌 본인을 뽑아야 하는 이유를 한 문장으로 말씀해 주시고, 궁금한 점이 있다면 함께 질문해 주세요.",
            "마치기 전에, 오늘 면접에서 저희가 본인을 잘못 판단했을 수 있는 부분이나 궁금한 점이 있으면 말씀해 주세요.",
        ),
    },
}

BANKS: dict[str, Bank] = {"en": EN_BANK, "ko": KO_BANK}

# Short acknowledgements that may prefix questions 2..n (after a real answer).
ACKS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "professional": (
            "Thank you.",
            "Understood.",
            "Thanks for walking me through that.",
            "I appreciate the detail.",
        ),
        "friendly": (
            "Thanks, that's helpful!",
            "Great, thanks for sharing that.",
            "That's really interesting!",
            "I love that example.",
        ),
        "challenging": ("Okay.", "Noted.", "Alright.", "I see."),
    },
    "ko": {
        "professional": ("네, 잘 들었습니다.", "답변 감사합니다.", "네, 알겠습니다.", "좋은 말씀 감사합니다."),
        "friendly": ("좋아요!", "와, 좋은 경험이네요.", "이야기해 주셔서 고마워요.", "멋지네요!"),
        "challenging": ("알겠습니다.", "그렇군요.", "네, 좋습니다.", "네."),
    },
}
ACK_RATE = {"professional": 0.5, "friendly": 0.85, "challenging": 0.4}
FOLLOWUP_RATE = {"professional": 0.4, "friendly": 0.35, "challenging": 0.6}
GENERIC_ROLE = {"en": "this role", "ko": "이 직무"}
SHORT_ANSWER_UNITS = 12  # below this, ask for a concrete example
MAX_JOB_TITLE = 60


# ---------------------------------------------------------------------------
# Templates and their signatures
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    """One question template of one bank."""

    kind: str
    persona: str
    text: str

    @property
    def slots(self) -> frozenset[str]:
        """The placeholder names the template needs."""
        return frozenset(name for _, name, _, _ in Formatter().parse(self.text) if name)

    @property
    def signature(self) -> str:
        """The longest fixed piece of text; finding it in a question means this template was used."""
        pieces = [literal.strip() for literal, *_ in Formatter().parse(self.text)]
        return max(pieces, key=len)


def templates(language: str) -> list[Template]:
    """Every template of the language's bank."""
    return [
        Template(kind, persona, text)
        for kind, by_persona in BANKS[language].items()
        for persona, texts in by_persona.items()
        for text in texts
    ]


def detect_template(language: str, question: str) -> Template | None:
    """The template ``question`` was built from, if it was one of ours."""
    for template in sorted(templates(language), key=lambda t: -len(t.signature)):
        if template.signature in question:
            return template
    return None


# ---------------------------------------------------------------------------
# Question planning
# ---------------------------------------------------------------------------


def _answer_units(text: str, language: str) -> float:
    """Answer length in roughly English-word units (a Korean eojeol counts 1.5)."""
    words = len(text.split())
    return words * 1.5 if language == "ko" else float(words)


def _seed(request: QuestionRequest) -> int:
    """A stable seed from everything that shapes the question."""
    cfg = request.config
    payload = json.dumps(
        [
            cfg.language,
            cfg.persona,
            cfg.job_title,
            cfg.job_description,
            cfg.resume_text,
            cfg.max_questions,
            request.index,
            request.is_last,
            [[t.question, t.answer] for t in request.turns],
        ],
        ensure_ascii=False,
    )
    return int.from_bytes(hashlib.sha256(payload.encode("utf-8")).digest()[:8], "big")


def _clean_title(title: str) -> str:
    """The job title trimmed to one short line without trailing punctuation."""
    title = " ".join(title.split()).strip(" .,!?;:")
    if len(title) > MAX_JOB_TITLE:
        title = title[:MAX_JOB_TITLE].rsplit(" ", 1)[0]
    return title


def _role_phrase(language: str, job_title: str) -> str:
    """How templates refer to the job: "the X role" / "X 직무", or generically."""
    title = _clean_title(job_title)
    if not title:
        return GENERIC_ROLE[language]
    return f"{title} 직무" if language == "ko" else f"the {title} role"


@dataclass
class _Context:
    """What the planner knows about the interview so far."""

    language: str
    persona: str
    role: str
    resume_keywords: list[str]
    jd_keywords: list[str]
    previous: list[str]
    prev_kinds: list[str | None]
    used: set[Template]
    last_answer: str | None
    rng: random.Random
    asked_text: str = field(init=False)

    def __post_init__(self) -> None:
        self.asked_text = " ".join(self.previous).lower()

    def fresh(self, keywords: Sequence[str]) -> list[str]:
        """Keywords not yet mentioned in a question (and in the interview's script)."""
        return [
            k for k in keywords if k.lower() not in self.asked_text and (self.language == "ko" or not has_hangul(k))
        ]


def _language_keywords(text: str, language: str, limit: int = 12, salient_only: bool = False) -> list[str]:
    """Keywords of ``text`` usable in a question in ``language``."""
    words = extract_keywords(text, limit=limit, salient_only=salient_only)
    return words if language == "ko" else [w for w in words if not has_hangul(w)]


def _context(request: QuestionRequest) -> _Context:
    """Build the planner's view of ``request``."""
    cfg = request.config
    language = cfg.language
    previous = [t.question for t in request.turns]
    detected = [detect_template(language, q) for q in previous]
    last = request.turns[-1].answer if request.turns else None
    return _Context(
        language=language,
        persona=cfg.persona,
        role=_role_phrase(language, cfg.job_title),
        resume_keywords=_language_keywords(cfg.resume_text, language),
        jd_keywords=_language_keywords(cfg.job_description, language),
        previous=previous,
        prev_kinds=[t.kind if t else None for t in detected],
        used={t for t in detected if t},
        last_answer=last.strip() if last and last.strip() else None,
        rng=random.Random(_seed(request)),
    )


def _agenda(request: QuestionRequest) -> list[str]:
    """The interview's plan of middle-question categories (stable per config)."""
    cfg = request.config
    rng = random.Random(_seed(QuestionRequest(cfg, (), 0, False)))
    rest = [*BEHAVIOURAL, MOTIVATION]
    rng.shuffle(rest)
    if cfg.persona == "challenging":  # probe failure early
        rest.remove(FAILURE)
        rest.insert(0, FAILURE)
    head = [RESUME, TECHNICAL] if cfg.resume_text.strip() or not cfg.job_description.strip() else [TECHNICAL, RESUME]
    return [head[0], rest[0], head[1], rest[1], rest[2], RESUME, rest[3], TECHNICAL, rest[4]]


def _slot_keyword(kind: str, ctx: _Context) -> str | None:
    """The keyword a {kw}/{phrase} slot would get for ``kind`` (None if none fits)."""
    if kind == RESUME:
        pool = ctx.fresh(ctx.resume_keywords)[:2]
    elif kind == TECHNICAL:
        pool = ctx.fresh(ctx.jd_keywords)[:2]
    elif kind == FOLLOWUP and ctx.last_answer:
        pool = ctx.fresh(_language_keywords(ctx.last_answer, ctx.language, limit=6, salient_only=True))[:1]
    else:
        pool = []
    return ctx.rng.choice(pool) if pool else None


def _render(kind: str, ctx: _Context) -> tuple[Template, str] | None:
    """Pick an unused template of ``kind`` and fill it, or None if none fits."""
    keyword = _slot_keyword(kind, ctx)
    options = [Template(kind, ctx.persona, text) for text in BANKS[ctx.language][kind][ctx.persona]]
    options = [t for t in options if t not in ctx.used]
    with_kw = [t for t in options if t.slots & {"kw", "phrase"}]
    without_kw = [t for t in options if not t.slots & {"kw", "phrase"}]
    pool = with_kw if keyword and with_kw else without_kw
    if not pool:
        return None
    template = ctx.rng.choice(pool)
    return template, template.text.format(role=ctx.role, kw=keyword, phrase=keyword)


def _choose_kind(request: QuestionRequest, ctx: _Context) -> str | None:
    """Opener/closing/follow-up when the situation calls for one, else None (use the agenda)."""
    if request.index <= 1:
        return SINGLE if request.is_last else OPENER
    if request.is_last:
        return CLOSING
    prev_kind = ctx.prev_kinds[-1] if ctx.prev_kinds else None
    if ctx.last_answer is None or prev_kind in FOLLOWUPS:
        return None
    if _answer_units(ctx.last_answer, ctx.language) < SHORT_ANSWER_UNITS:
        return FOLLOWUP_SHORT
    if ctx.rng.random() < FOLLOWUP_RATE[ctx.persona]:
        return FOLLOWUP
    return None


def _agenda_render(request: QuestionRequest, ctx: _Context) -> str:
    """The next agenda category that still has an unused template, rendered."""
    agenda = _agenda(request)
    done = sum(1 for kind in ctx.prev_kinds[1:] if kind not in NOT_AGENDA)
    start = done % len(agenda)
    for kind in [*agenda[start:], *agenda[:start], GENERAL, *BEHAVIOURAL, MOTIVATION]:
        rendered = _render(kind, ctx)
        if rendered:
            return rendered[1]
    # Every template is used (only possible with many vendor-free retries): reuse a general one.
    text = ctx.rng.choice(BANKS[ctx.language][GENERAL][ctx.persona])
    return text.format(role=ctx.role)


def _acknowledgement(request: QuestionRequest, ctx: _Context, kind: str | None) -> str:
    """A short persona-flavoured nod to the previous answer, or ''."""
    if request.index <= 1 or kind in (CLOSING, FOLLOWUP_SHORT) or ctx.last_answer is None:
        return ""
    if kind == FOLLOWUP and ctx.persona == "friendly":  # those templates already open warmly
        return ""
    if _answer_units(ctx.last_answer, ctx.language) < SHORT_ANSWER_UNITS:
        return ""
    if ctx.rng.random() >= ACK_RATE[ctx.persona]:
        return ""
    last_question = ctx.previous[-1] if ctx.previous else ""
    options = [a for a in ACKS[ctx.language][ctx.persona] if not last_question.startswith(a)]
    return ctx.rng.choice(options)


def build_question(request: QuestionRequest) -> str:
    """The next interview question for ``request`` (deterministic)."""
    ctx = _context(request)
    kind = _choose_kind(request, ctx)
    rendered = _render(kind, ctx) if kind else None
    if rendered is None:
        kind = None
        body = _agenda_render(request, ctx)
    else:
        body = rendered[1]
    ack = _acknowledgement(request, ctx, kind)
    text = f"{ack} {body}" if ack else body
    text = text.strip()
    return text if text[-1] in ".?!" else text + "?"


def fallback_question(request: QuestionRequest) -> str:
    """A good question in the interview's language when a vendor LLM fails.

    Uses the same deterministic planner as :class:`OfflineLLM` (so it still
    names the job, weaves in keywords and avoids repeating earlier questions).
    """
    return build_question(request)


def _pieces(text: str) -> list[str]:
    """Word-sized chunks, spaces kept, so ``"".join(pieces) == text``."""
    return re.findall(r"\S+\s*", text) or [text]


# ---------------------------------------------------------------------------
# Feedback
# ---------------------------------------------------------------------------

STAR_MARKERS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "situation": (
            r"\bsituation\b",
            r"\bcontext\b",
            r"\bbackground\b",
            r"\bat the time\b",
            r"\bwhen i was\b",
            r"\bthe problem was\b",
            r"\bwe were facing\b",
            r"\bat my (?:last|previous) (?:job|company)\b",
        ),
        "task": (
            r"\btask\b",
            r"\bgoal\b",
            r"\bobjective\b",
            r"\bresponsible for\b",
            r"\bmy role\b",
            r"\bneeded to\b",
            r"\bhad to\b",
            r"\bwas asked to\b",
        ),
        "action": (
            r"\bi (?:decided|built|implemented|led|proposed|introduced|created|designed|wrote|set up|organi[sz]ed|analy[sz]ed|talked|worked with|started)\b",
            r"\bso i\b",
            r"\baction\b",
            r"\bfirst,? i\b",
        ),
        "result": (
            r"\bresult(?:s|ed)?\b",
            r"\boutcome\b",
            r"\bin the end\b",
            r"\breduced\b",
            r"\bincreased\b",
            r"\bimproved\b",
            r"\bled to\b",
            r"\bsaved\b",
            r"\bachieved\b",
            r"\bwhich meant\b",
            r"\bdelivered\b",
            r"\blearned\b",
        ),
    },
    "ko": {
        "situation": ("상황", "당시", "배경", "문제가", "문제는", "때였", "했을 때"),
        "task": ("과제", "목표", "역할", "맡", "책임", "해야 했", "담당"),
        "action": ("행동", "그래서", "직접", "제안", "도입", "구현", "설계", "주도", "분석", "설득", "진행했"),
        "result": (
            "결과",
            "결과적으로",
            "덕분에",
            "성과",
            "개선",
            "줄였",
            "늘렸",
            "향상",
            "달성",
            "절감",
            "배웠",
            "성공",
        ),
    },
}

_METRIC_RE = re.compile(
    r"[$₩€£]\s?\d[\d,.]*\s?[kmb]?\b"
    r"|\d[\d,.]*\s?(?:%|퍼센트|percent\b|배|x\b|times\b|ms\b|초|분|시간|일|주|개월|달|년|명|건|만|억|천|원|달러"
    r"|users?\b|customers?\b|hours?\b|days?\b|weeks?\b|months?\b|years?\b|minutes?\b|seconds?\b|people\b"
    r"|requests?\b|k\b|m\b)"
    r"|\b(?:doubled|tripled|halved)\b|두 배|세 배|절반",
    re.IGNORECASE,
)

LONG_ANSWER_UNITS = 350


@dataclass(frozen=True)
class AnswerFeatures:
    """What the heuristics measured in one answer."""

    index: int
    units: float
    star: frozenset[str]
    metrics: tuple[str, ...]
    hits: tuple[str, ...]
    has_reference: bool

    @property
    def too_short(self) -> bool:
        """Too brief to show a real example."""
        return self.units < 20

    @property
    def too_long(self) -> bool:
        """Long enough to lose the listener."""
        return self.units > LONG_ANSWER_UNITS

    @property
    def score(self) -> int:
        """0–100: base 10, length ≤35, structure and metrics ≤35, job relevance ≤20."""
        u = self.units
        if u < 3:
            length = 2.0
        elif u < 60:
            length = 5 + 30 * u / 60
        elif u <= 250:
            length = 35.0
        elif u <= LONG_ANSWER_UNITS:
            length = 35 - 7 * (u - 250) / 100
        else:
            length = 26.0
        structure = 6 * len(self.star) + (0, 7, 11)[min(len(self.metrics), 2)]
        if not self.has_reference:
            relevance = 12
        else:
            relevance = (4, 12, 16, 20)[min(len(self.hits), 3)]
        return max(0, min(100, round(10 + length + structure + relevance)))


def _reference_keywords(config: InterviewConfig) -> dict[str, str]:
    """Normalised key -> display form of the job's keywords (JD, else the title)."""
    source = config.job_description.strip() or config.job_title
    return {normalize(k): k for k in extract_keywords(source, limit=25)}


def analyse_answer(index: int, answer: str, language: str, reference: dict[str, str]) -> AnswerFeatures:
    """Measure length, STAR markers, metrics and job-keyword overlap of one answer."""
    lowered = answer.lower()
    star = frozenset(
        part
        for part, patterns in STAR_MARKERS[language].items()
        if any(re.search(p, lowered) if language == "en" else p in answer for p in patterns)
    )
    metrics = tuple(dict.fromkeys(m.group().strip() for m in _METRIC_RE.finditer(answer)))
    answer_keys = keyword_set(answer)
    hits = tuple(display for key, display in reference.items() if key in answer_keys)
    return AnswerFeatures(
        index=index,
        units=_answer_units(answer, language),
        star=star,
        metrics=metrics,
        hits=hits,
        has_reference=bool(reference),
    )


# Comment phrases: key -> (en, ko). Slots: {m} a metric, {k} keywords.
COMMENT_GOOD = {
    "metrics": (
        "Good use of concrete numbers ({m}) to show impact.",
        "구체적인 수치({m})로 성과를 잘 보여 주었습니다.",
    ),
    "structure": (
        "Clear structure from the situation through to the result.",
        "상황부터 결과까지 구조가 명확했습니다.",
    ),
    "relevance": ("Relevant to the role, touching on {k}.", "{k} 등 직무와 관련된 내용을 잘 연결했습니다."),
    "detail": ("A well-developed answer with enough detail.", "충분히 구체적으로 전개된 답변이었습니다."),
}
COMMENT_GAP = {
    "brief": (
        "Too brief to judge; give a concrete example with the context, your actions and the result.",
        "답변이 너무 짧아 상황, 행동, 결과가 담긴 구체적인 사례가 필요합니다.",
    ),
    "result": (
        "The result of your actions wasn't clear; finish with what changed.",
        "행동 이후 어떤 결과가 나왔는지가 드러나지 않았습니다.",
    ),
    "structure": (
        "Walk through the situation, your task, your actions and the result (STAR).",
        "상황, 과제, 행동, 결과(STAR) 순서로 정리하면 더 명확해집니다.",
    ),
    "metrics": (
        "Add a number or metric to make the impact tangible.",
        "수치나 지표를 더하면 성과가 더 설득력 있게 전달됩니다.",
    ),
    "relevance": (
        "Connect the answer to the job's requirements, for example {k}.",
        "{k} 등 직무 요구사항과 답변을 연결해 보세요.",
    ),
    "long": (
        "Quite long; lead with the main point and trim the background.",
        "답변이 다소 길어 핵심 위주로 줄이면 좋겠습니다.",
    ),
    "none": ("Keep answering with this level of detail.", "지금처럼 구체적으로 답변하시면 좋겠습니다."),
}


def _lang_index(language: str) -> int:
    return 1 if language == "ko" else 0


def _join_keywords(words: Sequence[str]) -> str:
    return ", ".join(words[:3])


def comment_for(f: AnswerFeatures, language: str, reference: dict[str, str]) -> str:
    """One positive observation (if any) and the most important gap."""
    li = _lang_index(language)
    good = None
    if f.metrics:
        good = COMMENT_GOOD["metrics"][li].format(m=f.metrics[0])
    elif len(f.star) >= 3:
        good = COMMENT_GOOD["structure"][li]
    elif len(f.hits) >= 2:
        good = COMMENT_GOOD["relevance"][li].format(k=_join_keywords(f.hits))
    elif 60 <= f.units <= LONG_ANSWER_UNITS:
        good = COMMENT_GOOD["detail"][li]
    missing = [d for d in reference.values() if d not in f.hits]
    if f.too_short:
        gap = "brief"
    elif "result" not in f.star:
        gap = "result"
    elif len(f.star) < 3:
        gap = "structure"
    elif not f.metrics:
        gap = "metrics"
    elif reference and not f.hits and missing:
        gap = "relevance"
    elif f.too_long:
        gap = "long"
    else:
        gap = "none"
    gap_text = COMMENT_GAP[gap][li].format(k=_join_keywords(missing))
    return f"{good} {gap_text}" if good else gap_text


def _band(score: int, language: str) -> str:
    bands = (
        (80, "a strong result", "우수한 수준"),
        (60, "a solid result", "양호한 수준"),
        (40, "a developing result", "보완이 필요한 수준"),
        (0, "an early-stage result that needs more practice", "연습이 더 필요한 수준"),
    )
    for floor, en, ko in bands:
        if score >= floor:
            return ko if language == "ko" else en
    return bands[-1][1]


# Overall strengths / improvements: key -> {language: (sentence, short phrase)}.
# Slots: {n} answers, {k} count, {m} a metric, {kws} keywords, {u} unanswered,
# {i} a question index, {s} a score.
STRENGTHS: dict[str, dict[str, tuple[str, str]]] = {
    "metrics": {
        "en": ("You backed up {k} of {n} answers with concrete numbers such as {m}.", "using numbers as evidence"),
        "ko": ("답변 {n}개 중 {k}개에서 {m} 같은 구체적인 수치로 성과를 뒷받침했습니다.", "수치를 활용한 근거 제시"),
    },
    "structure": {
        "en": ("Your answers followed a clear situation, action and result structure.", "clear answer structure"),
        "ko": ("상황, 행동, 결과가 드러나는 체계적인 구조로 답변했습니다.", "체계적인 답변 구조"),
    },
    "relevance": {
        "en": ("You connected your answers to the role's requirements ({kws}).", "relevance to the role"),
        "ko": ("{kws} 등 직무 요구사항과 답변을 잘 연결했습니다.", "직무와의 연관성"),
    },
    "detail": {
        "en": ("Most of your answers were detailed and well developed.", "detailed answers"),
        "ko": ("대부분의 답변을 충분히 구체적으로 전개했습니다.", "구체적인 답변"),
    },
    "complete": {
        "en": ("You answered every question.", "answering every question"),
        "ko": ("모든 질문에 빠짐없이 답변했습니다.", "성실한 답변 태도"),
    },
    "best": {
        "en": ("Your best answer was to question {i} ({s}/100).", "your answer to question {i}"),
        "ko": ("{i}번 질문에 대한 답변이 가장 좋았습니다({s}점).", "{i}번 답변"),
    },
}
IMPROVEMENTS: dict[str, dict[str, tuple[str, str]]] = {
    "brief": {
        "en": (
            "Many answers were very short; aim for one to two minutes built around a concrete example.",
            "giving fuller answers",
        ),
        "ko": ("답변이 짧은 편이었습니다. 질문마다 1~2분 정도, 구체적인 사례를 들어 답변해 보세요.", "답변의 구체성"),
    },
    "result": {
        "en": (
            "Use the STAR structure and always finish with the result your actions produced.",
            "ending with clear results",
        ),
        "ko": (
            "상황, 과제, 행동, 결과(STAR) 구조로 답하고, 특히 마지막에 결과를 분명히 정리해 보세요.",
            "결과 중심의 STAR 구조",
        ),
    },
    "metrics": {
        "en": (
            "Quantify your impact: none of your answers included numbers such as percentages, time saved or users affected.",
            "quantifying impact",
        ),
        "ko": (
            "성과를 수치로 표현해 보세요. 개선 비율, 절감한 시간, 영향을 받은 사용자 수 등이 좋습니다.",
            "성과의 수치화",
        ),
    },
    "relevance": {
        "en": (
            "Link your experience to the job description; key terms like {kws} rarely came up.",
            "linking answers to the job",
        ),
        "ko": ("직무 기술서의 핵심 키워드({kws})와 본인의 경험을 연결해 보세요.", "직무 요구사항과의 연결"),
    },
    "unanswered": {
        "en": (
            "You left {u} question(s) unanswered; try to give at least a short answer to every question.",
            "answering every question",
        ),
        "ko": ("답변하지 않은 질문이 {u}개 있었습니다. 짧게라도 모든 질문에 답해 보세요.", "모든 질문에 답변하기"),
    },
    "long": {
        "en": ("Some answers ran long; lead with your main point and trim the background.", "concise delivery"),
        "ko": ("일부 답변이 길었습니다. 결론부터 말하고 배경 설명은 줄여 보세요.", "간결한 전달"),
    },
    "weakest": {
        "en": (
            "Your answer to question {i} ({s}/100) was the weakest; rehearse it with a sharper example.",
            "your answer to question {i}",
        ),
        "ko": ("{i}번 질문의 답변({s}점)을 더 날카로운 사례로 다시 준비해 보세요.", "{i}번 답변 보완"),
    },
}


@dataclass(frozen=True)
class Point:
    """One strength or improvement: the full sentence and a short phrase for the summary."""

    sentence: str
    short: str


def _point(table: dict[str, dict[str, tuple[str, str]]], key: str, language: str, **slots: object) -> Point:
    sentence, short = table[key][language]
    return Point(sentence.format(**slots), short.format(**slots))


def _strengths(feats: list[AnswerFeatures], asked: int, language: str) -> list[Point]:
    """Strengths supported by the measurements (at most three, best evidence first)."""
    n = len(feats)
    out: list[Point] = []
    with_metrics = [f for f in feats if f.metrics]
    if with_metrics:
        out.append(_point(STRENGTHS, "metrics", language, n=n, k=len(with_metrics), m=with_metrics[0].metrics[0]))
    structured = [f for f in feats if len(f.star) >= 3 and "result" in f.star]
    if structured and len(structured) * 2 >= n:
        out.append(_point(STRENGTHS, "structure", language))
    hits = list(dict.fromkeys(h for f in feats for h in f.hits))
    if len(hits) >= 2:
        out.append(_point(STRENGTHS, "relevance", language, kws=_join_keywords(hits)))
    detailed = [f for f in feats if 60 <= f.units <= LONG_ANSWER_UNITS]
    if detailed and len(detailed) * 2 >= n:
        out.append(_point(STRENGTHS, "detail", language))
    if n == asked and n >= 3:
        out.append(_point(STRENGTHS, "complete", language))
    if not out and feats:
        best = max(feats, key=lambda f: (f.score, -f.index))
        out.append(_point(STRENGTHS, "best", language, i=best.index, s=best.score))
    return out[:3]


def _improvements(feats: list[AnswerFeatures], asked: int, language: str, reference: dict[str, str]) -> list[Point]:
    """Improvements supported by the measurements (at most three, biggest gap first)."""
    n = len(feats)
    out: list[Point] = []
    if sum(f.too_short for f in feats) * 2 >= n:
        out.append(_point(IMPROVEMENTS, "brief", language))
    if sum("result" not in f.star for f in feats) * 2 >= n:
        out.append(_point(IMPROVEMENTS, "result", language))
    if not any(f.metrics for f in feats):
        out.append(_point(IMPROVEMENTS, "metrics", language))
    hit_keys = {h for f in feats for h in f.hits}
    missing = [d for d in reference.values() if d not in hit_keys]
    if reference and len(hit_keys) < 2 and missing:
        out.append(_point(IMPROVEMENTS, "relevance", language, kws=_join_keywords(missing)))
    if asked > n:
        out.append(_point(IMPROVEMENTS, "unanswered", language, u=asked - n))
    if any(f.too_long for f in feats):
        out.append(_point(IMPROVEMENTS, "long", language))
    if not out and feats:
        worst = min(feats, key=lambda f: (f.score, f.index))
        out.append(_point(IMPROVEMENTS, "weakest", language, i=worst.index, s=worst.score))
    return out[:3]


def _empty_feedback(language: str) -> Feedback:
    """Feedback for an interview with no answers: score 0, nothing per question."""
    ko = language == "ko"
    return Feedback(
        overall_score=0,
        summary="답변이 기록되지 않아 평가할 수 없었습니다. 다음에는 질문에 소리 내어 답변해 보세요."
        if ko
        else "No answers were recorded, so there was nothing to score. Try answering the questions out loud next time.",
        strengths=[
            "모의 면접을 시작하며 연습의 첫걸음을 내디뎠습니다."
            if ko
            else "You took the first step by starting a practice interview."
        ],
        improvements=[
            "각 질문에 구체적인 사례를 들어 답변해 보세요."
            if ko
            else "Answer each question with a concrete example from your experience."
        ],
        per_question=[],
        fallback=False,
    )


def build_feedback(request: FeedbackRequest) -> Feedback:
    """Heuristic, deterministic feedback for the interview in ``request``."""
    cfg = request.config
    language = cfg.language
    reference = _reference_keywords(cfg)
    answered: list[Turn] = [t for t in request.turns if t.answer and t.answer.strip()]
    feats = [analyse_answer(t.index, t.answer or "", language, reference) for t in answered]
    asked = len(request.turns)
    if not feats:
        return _empty_feedback(language)
    per_question = [
        QuestionScore(index=f.index, score=f.score, comment=comment_for(f, language, reference)) for f in feats
    ]
    overall = round(sum(f.score for f in feats) / max(asked, len(feats)))
    strengths = _strengths(feats, asked, language)
    improvements = _improvements(feats, asked, language, reference)
    band = _band(overall, language)
    if language == "ko":
        summary = (
            f"총 {asked}개 질문 중 {len(feats)}개에 답변했으며 종합 점수는 {overall}점으로 {band}입니다. "
            f"특히 '{strengths[0].short}' 측면이 돋보였고, '{improvements[0].short}' 측면을 보완하면 더 좋아지겠습니다."
        )
    else:
        summary = (
            f"You answered {len(feats)} of {asked} questions and scored {overall} overall, {band}. "
            f"Your strongest area was {strengths[0].short}; the main thing to work on is {improvements[0].short}."
        )
    return Feedback(
        overall_score=overall,
        summary=summary,
        strengths=[s.sentence for s in strengths],
        improvements=[i.sentence for i in improvements],
        per_question=per_question,
        fallback=False,
    )


# ---------------------------------------------------------------------------
# The provider
# ---------------------------------------------------------------------------


class OfflineLLM:
    """A deterministic, template-driven interviewer that needs no network.

    ``delay`` (seconds) is a test hook: every call waits that long in total.
    """

    name = "offline"
    offline = True

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = max(0.0, float(delay))

    async def stream_question(self, request: QuestionRequest) -> AsyncIterator[str]:
        """Yield the next question in word-sized pieces (spaces kept)."""
        pieces = _pieces(build_question(request))
        step = self.delay / len(pieces)
        for piece in pieces:
            await asyncio.sleep(step)
            yield piece

    async def feedback(self, request: FeedbackRequest) -> Feedback:
        """Score the interview heuristically."""
        if self.delay:
            await asyncio.sleep(self.delay)
        return build_feedback(request)
