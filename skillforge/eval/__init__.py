"""Stage ``eval`` (DESIGN §1): does a skill version help? Measure it, and promote only what does.

Two evaluations of a skill version, after issue 17:

* the retrospective judge (:mod:`.retro`): one LLM call per held-out trajectory (:mod:`.split`,
  :mod:`.sources`) says whether the skill addresses the root cause of a failure (*coverage*) or
  would have steered a success wrong (*harm*), citing skill lines and trajectory steps that code
  then checks (:mod:`.citations`); its one import of the LLM module is :mod:`.judge_client`;
* the live A/B replay (:mod:`.ab`): the user's own agent runs a task list with each arm exported
  (:mod:`.arms`: no skill, the previous version, this one), K trials each; each trial's outcome is
  read with skillforge's ingest (:mod:`.outcome`); success rates with 95 % intervals, paired by
  task (:mod:`.stats`, scipy).

:mod:`.gate` decides promotion from either; :mod:`.results` stores the evidence beside the version
in the store; :mod:`.command` holds the functions the CLI calls. This ``__init__`` imports nothing,
so that ``import skillforge.eval.split`` stays cheap.
"""
