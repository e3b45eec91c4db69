# Two commands on a fresh machine: `make run` and `make test`. Both create the virtualenv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The deployment gate's tools (checkov, cfn-lint, the SAM translator) pin versions of boto3 and pydantic of their
# own, so they live in a second virtualenv.
GATE_VENV := .venv-gate
GATE_STAMP := $(GATE_VENV)/.installed
STAGE ?= dev
REGION ?= eu-central-1

.PHONY: run test lint bench mutation package gate deploy secrets clean messages browser sms-delivery-status

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

$(GATE_STAMP): requirements-gate.txt
	test -x $(GATE_VENV)/bin/python || $(PYTHON) -m venv $(GATE_VENV)
	$(GATE_VENV)/bin/python -m pip install -q --disable-pip-version-check -r requirements-gate.txt
	touch $(GATE_STAMP)

run: $(STAMP)
	$(PY) -m infra.local

test: $(STAMP) $(GATE_STAMP) browser
	$(PY) -m ruff check .
	$(PY) -m pytest -q -n 4 --dist loadgroup  # 4 workers on 2 cores: much of the time a worker only waits on
	# its local cloud, Chromium or schemathesis (measured CPU: 60 % with 2 workers, 85 % with 3; 4 ran 5 % faster)

lint: $(STAMP)
	$(PY) -m ruff check .

bench: $(STAMP)
	$(PY) -m bench.all

# Mutation testing of the security and money core (docs/mutation.md): a report, not a gate; hours on 2 cores.
# GROUPS="codes sessions" picks groups, ARGS="--survivors" (or --again, --report, --fresh) passes options.
mutation: $(STAMP)
	$(PY) -m pip install -q --disable-pip-version-check 'mutmut>=3.8,<4'
	$(PY) -m infra.mutation $(GROUPS) $(ARGS)

# build/$(STAGE)/sam.json and deployment.zip; no AWS account or credentials needed.
package: $(STAMP)
	$(PY) -m infra.package $(STAGE) --region $(REGION)

# package + cfn-lint + SAM transform + checkov against infra/checkov-baseline.json (make test runs it for prod).
gate: $(STAMP) $(GATE_STAMP)
	$(PY) -m infra.gate $(STAGE)

# The real deployment (docs/deploy.md): needs the AWS CLI, credentials and ARTIFACTS=<bucket for the code package>.
deploy: package
	@command -v aws >/dev/null || { echo "make deploy needs the AWS CLI (pip install awscli)"; exit 1; }
	@test -n "$(ARTIFACTS)" || { echo "make deploy needs ARTIFACTS=<an S3 bucket for the code package>"; exit 1; }
	aws sts get-caller-identity --query Account --output text
	aws cloudformation package --region $(REGION) --template-file build/$(STAGE)/sam.json \
	  --s3-bucket $(ARTIFACTS) --s3-prefix kabinet-$(STAGE) --output-template-file build/$(STAGE)/packaged.yaml
	aws cloudformation deploy --region $(REGION) --template-file build/$(STAGE)/packaged.yaml \
	  --stack-name kabinet-$(STAGE) --capabilities CAPABILITY_IAM CAPABILITY_NAMED_IAM CAPABILITY_AUTO_EXPAND \
	  --no-fail-on-empty-changeset

# Once, after the first deploy: fills the stage's empty secrets (infra/secrets.py; pass ARGS=--self-signed on dev).
secrets: $(STAMP)
	AWS_DEFAULT_REGION=$(REGION) $(PY) -m infra.secrets $(STAGE) $(ARGS)

clean:
	rm -rf $(VENV) $(GATE_VENV) build .pytest_cache .ruff_cache

# Message catalogs (NF-4): extract every text of the pages and the domain's refusals, merge into each language's
# catalog, compile the .mo files the app reads. Translate in chalicelib/locale/<lang>/LC_MESSAGES/kabinet.po.
messages: $(STAMP)
	PYTHONPATH=. $(VENV)/bin/pybabel extract -F babel.cfg --no-location --sort-output --omit-header \
		-o chalicelib/locale/kabinet.pot .
	$(VENV)/bin/pybabel update -i chalicelib/locale/kabinet.pot -d chalicelib/locale -D kabinet -l en --no-fuzzy-matching --ignore-obsolete
	$(VENV)/bin/pybabel compile -d chalicelib/locale -D kabinet

# Browser tests need Chromium (Debian's package; Playwright cannot download browsers here) and qpdf/poppler for
# the PDF repair test. Installed with apt when running as root, otherwise named.
browser:
	@command -v chromium >/dev/null && command -v qpdf >/dev/null || { \
		if [ "$$(id -u)" = 0 ]; then apt-get install -y -q chromium qpdf >/dev/null; \
		else echo "Install Chromium and qpdf: sudo apt-get install chromium qpdf" >&2; exit 1; fi; }

# Once per account and region, after the first deploy (issue 14, docs/delivery-feedback.md): SNS logs SMS delivery
# status with the stack's SmsDeliveryStatusRole, which the delivery_feedback function reads.
sms-delivery-status: $(STAMP)
	AWS_DEFAULT_REGION=$(REGION) $(PY) -m infra.sms_delivery_status $(STAGE)
