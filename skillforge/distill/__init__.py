"""How the stages are wired for one distill run (DESIGN §5): order, run folder, resume, dry run,
manifest and progress. The stages themselves live in their own packages."""
