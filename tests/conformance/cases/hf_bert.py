# HuggingFace BERT (tiny config, random weights) for sequence classification with
# an attention mask that pads the second sequence: extended-mask arithmetic,
# token-type and position embeddings, pooler, cross-entropy.
import torch
import vision_shim  # noqa: F401  (transformers imports torchvision: see the module)

# isort: split
from transformers import BertConfig, BertForSequenceClassification

torch.manual_seed(0)
config = BertConfig(vocab_size=64, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                    intermediate_size=64, max_position_embeddings=16, num_labels=3)
model = BertForSequenceClassification(config)
input_ids = torch.randint(1, 64, (2, 8))
attention_mask = torch.ones(2, 8, dtype=torch.long)
attention_mask[1, 5:] = 0
input_ids[1, 5:] = 0
labels = torch.tensor([0, 2])
out = model(input_ids=input_ids, attention_mask=attention_mask, labels=labels)
loss = out.loss
print("logits", tuple(out.logits.shape))
print(f"loss {loss.item():.6f}")
loss.backward()
emb = model.bert.embeddings.word_embeddings.weight
print(f"word_embeddings.grad norm {emb.grad.norm().item():.6e}")
print(f"pooler.dense.weight.grad norm {model.bert.pooler.dense.weight.grad.norm().item():.6e}")
loss
