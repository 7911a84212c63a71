"""The simulated meter behind each real one: what the meter would say to each token typed in.

The pipeline decodes every token with it before sending; the demo lets a person type tokens into it.
Its state (credit register, TID memory, current key) is JSON from vending.sts, encrypted at rest
because it holds the meter's decoder key.
"""

from django.db import models

from vending.models.meters import Meter


class VirtualMeterState(models.Model):
    meter = models.OneToOneField(Meter, on_delete=models.CASCADE, related_name="virtual_state")
    state_encrypted = models.BinaryField(editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"virtual meter {self.meter.drn}"
