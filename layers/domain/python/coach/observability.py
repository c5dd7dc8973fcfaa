"""One set of Powertools instances shared by every handler. Logs carry ids and counts, never member fields,
event bodies, link ids or task tokens."""

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "automated-pharmacist"
NAMESPACE = "AutomatedPharmacist"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
