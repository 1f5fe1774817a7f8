# Thin wrappers: the scripts are the source of truth and need no make.
.PHONY: test demo generate
test:
	bash scripts/test.sh
demo:
	bash scripts/demo.sh
generate:
	bash scripts/generate.sh
