"""The shared code of the LeNet-5 course.

Import the parts you need, e.g. ``from lenet_course.models import LeNet5``. Importing the
package does nothing else: no downloads, no seeding, no changes to matplotlib's style.
"""

__version__ = "0.3.0"
__all__ = ["augment", "bench", "checkpoints", "checks", "classic", "data", "drawing", "inputs", "kernels",
           "metrics", "models", "optim", "pretrain", "shapes", "style", "train", "unitpath", "viz", "web"]
