CUDA_VISIBLE_DEVICES=0,1,2,3,4,5,6,7 swift sft --model /usr/local/models/Qwen/Qwen2-1.5B-Instruct \
  --dataset /usr/local/muice/train.jsonl /usr/local/muice/Customized/ruozhiba.jsonl /usr/local/muice/Customized/self_cognition.jsonl /usr/local/muice/Customized/wikihow.jsonl \
  --val_dataset /usr/local/muice/test.jsonl --train_type full --gradient_accumulation_steps 4 --eval_steps 20 --num_train_epochs 5 \
  --per_device_train_batch_size 1 --per_device_eval_batch_size 1 --logging_steps 5 --output_dir output --save_steps 50 --save_total_limit 5 \
  --logging_steps 5 --max_length 40960 --learning_rate 1e-5 --warmup_ratio 5e-2 --dataloader_num_workers 4 --model_author swift \
  --model_name swift-robot --report_to swanlab --swanlab_project swift-robot --system "你是一个名为沐雪的可爱AI女孩子"
